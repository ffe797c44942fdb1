"""The case ledger: every command an officer, a matcher or an administrator can give.

Each command loads the aggregates it touches, lets them decide, and saves their new events
atomically. The commands live in `domain/commands/`, one module per family of users; this class
is the one Application that carries them all.
"""

from __future__ import annotations

from lfr_ledger.domain.commands.access_log import AccessLogCommands
from lfr_ledger.domain.commands.alerts import AlertCommands
from lfr_ledger.domain.commands.base import SYSTEM
from lfr_ledger.domain.commands.blue import BlueWalkPastCommands
from lfr_ledger.domain.commands.camera_health import CameraHealthCommands
from lfr_ledger.domain.commands.complaints import ComplaintCommands
from lfr_ledger.domain.commands.deployments import DeploymentCommands
from lfr_ledger.domain.commands.governance import GovernanceCommands
from lfr_ledger.domain.commands.integrity import IntegrityCommands
from lfr_ledger.domain.commands.oversight_grants import OversightGrantCommands
from lfr_ledger.domain.commands.publication import PublicationCommands
from lfr_ledger.domain.commands.training import TrainingCommands
from lfr_ledger.domain.commands.watchlist import Enrolment, RevealedEntry, WatchlistCommands

__all__ = ["SYSTEM", "CaseLedger", "Enrolment", "RevealedEntry"]


class CaseLedger(
    DeploymentCommands,
    WatchlistCommands,
    AlertCommands,
    AccessLogCommands,
    CameraHealthCommands,
    BlueWalkPastCommands,
    IntegrityCommands,
    OversightGrantCommands,
    GovernanceCommands,
    TrainingCommands,
    ComplaintCommands,
    PublicationCommands,
):
    # Named explicitly: the library derives table names and environment prefixes from it.
    name = "lfr"
