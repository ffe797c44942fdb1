"""Assembles the case ledger from settings: event store, key vault, policy, clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from config.settings import Settings
from domain.application import CaseLedger
from domain.clock import utcnow
from domain.policy import Policy
from eventlog.vault import PostgresKeyVault, SQLiteKeyVault


def build_vault(settings: Settings) -> SQLiteKeyVault | PostgresKeyVault:
    if settings.uses_postgres:
        params = settings.postgres_params()
        return PostgresKeyVault(params, schema=settings.postgres_schema)
    return SQLiteKeyVault(settings.keys_path)


def build_ledger(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    policy_path: Path | None = None,
) -> CaseLedger:
    settings = settings or Settings.from_env()
    return CaseLedger(
        settings.eventsourcing_env(),
        vault=build_vault(settings),
        policy=Policy.load(policy_path),
        clock=clock,
    )
