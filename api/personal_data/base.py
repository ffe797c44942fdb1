"""The query layer's core: who may read what (`READERS`), the purpose a role's own work implies,
and the consultation every read of personal data records before anything is returned."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from uuid import UUID

from lfr_ledger.api.personal_data.integrity import check_read
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import NotFound, NotPermitted
from lfr_ledger.domain.oversight_grant import BodyAccess
from lfr_ledger.domain.watchlist import WatchlistEntry
from lfr_ledger.projections.readers.statistics import StatisticsReader


class Read(StrEnum):
    """What is read, as the consultation's record names it (`<read>:<id>`). The stored record
    strings of earlier releases are these values: never rename one."""

    ALERT_TIMELINE = "alert_timeline"
    ALERT_LIST = "deployment_alerts"
    ALERT_STREAM = "alert_stream"
    FACE_CROP = "alert_face_crop"
    WATCHLIST = "deployment_watchlist"
    ENTRY = "watchlist_entry"
    ENTRY_IMAGE = "watchlist_image"
    TEMPLATES = "watchlist_templates"
    HISTORY = "deployment_history"
    SUBJECT_ACCESS = "subject_access"
    EQUALITY = "equality"
    EQUALITY_TREND = "equality_trend"
    BUNDLE = "oversight_bundle"
    COMPLAINTS = "deployment_complaints"
    # The entry an alert matched, and its image, for the officer sent to engage on the alert:
    # authorised under these kinds (only for an alert decided a match), recorded as the entry
    # and image reads they are (`watchlist_entry:<id>`, `watchlist_image:<id>`).
    ENGAGED_ENTRY = "engaged_entry"
    ENGAGED_IMAGE = "engaged_image"
    # The s.62 log itself: read here (its purposes and recipients are sealed), not logged.
    ACCESS_LOG = "access_log"


WM, AO = Role.WATCHLIST_MANAGER, Role.AUTHORISING_OFFICER
OP, OF, M, OV = Role.OPERATOR, Role.OFFICER, Role.MATCHER, Role.OVERSIGHT

# Who may read what, whichever door they come through (a route, a CLI command, the demo). The
# routes' rows in `api/guards.ACCESS` open no more than this; the walk test calls each route
# with every role its row names, so a row wider than this table fails there.
READERS: dict[Read, frozenset[Role]] = {
    Read.ALERT_TIMELINE: frozenset({AO, OP, OF, OV}),
    Read.ALERT_LIST: frozenset({AO, OP, OF, OV}),
    Read.ALERT_STREAM: frozenset({OP, OF}),
    Read.FACE_CROP: frozenset({AO, OP, OF, OV}),
    Read.WATCHLIST: frozenset({WM, AO, OV}),
    Read.ENTRY: frozenset({WM, AO, OV}),
    Read.ENTRY_IMAGE: frozenset({WM, AO, OP, OV}),
    Read.TEMPLATES: frozenset({M}),
    Read.HISTORY: frozenset({OV}),
    Read.SUBJECT_ACCESS: frozenset({OV}),
    Read.EQUALITY: frozenset({OV}),
    Read.EQUALITY_TREND: frozenset({OV}),
    Read.BUNDLE: frozenset({OV}),
    Read.COMPLAINTS: frozenset({AO, OV}),
    Read.ENGAGED_ENTRY: frozenset({OF}),
    Read.ENGAGED_IMAGE: frozenset({OF}),
    Read.ACCESS_LOG: frozenset({OV}),
}

# Reads over every deployment that a body of limited remit gets filtered to its remit; every
# other read made without naming a deployment spans the log and is refused to such a body.
FILTERED_BY_REMIT: frozenset[Read] = frozenset({Read.SUBJECT_ACCESS})
# What such a body may ask for instead of a read refused for spanning the log.
INSTEAD: dict[Read, str] = {
    Read.ACCESS_LOG: "it may read its own body's consultations (body=<its code>)",
}

# The purpose a role's own work implies, for reads the role makes in doing it (an operator
# reads a live deployment's alerts to adjudicate them): "<work> <what>".
WORK: dict[Role, str] = {
    OP: "adjudicating",
    OF: "engaging on",
    AO: "reviewing",
    WM: "compiling",
    OV: "oversight of",
}


class NotHeld(NotFound):
    """What was asked for is not held (never sent, erased, destroyed): a 404 saying which."""

    def __init__(self, kind: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.title = title


class Layer:
    """One reader's access to personal data: `actor` reads, each method records the
    consultation (actor and role, purpose, record) before it returns what was read."""

    def __init__(
        self,
        ledger: CaseLedger,
        actor: Actor,
        *,
        settings: Settings | None = None,
        statistics: Callable[[], StatisticsReader] | None = None,
    ) -> None:
        self.ledger = ledger
        self.actor = actor
        self.settings = settings
        self._statistics = statistics

    def _authorise(
        self, read: Read, deployment_id: UUID | None = None, *, own_reads: bool = False
    ) -> BodyAccess | None:
        """The one check that this reader may read this record: its role, a matcher's one
        deployment, and an oversight reader's grants (`domain/oversight_grant.py`): the
        deployment read lies within a grant in force of the reader's body, or, for a read
        spanning every deployment, the body's remit is unlimited. Returns an oversight
        reader's access, which reads over many deployments filter by (`FILTERED_BY_REMIT`).
        `own_reads`: the read is of the reader's own body's consultations, which a body holding
        any grant in force may read, whatever its remit."""
        role = self.actor.role
        if role not in READERS[read]:
            raise NotPermitted(f"the role {role} may not read {read.value}")
        if role == Role.MATCHER and (
            deployment_id is None or str(deployment_id) != self.actor.deployment_id
        ):
            raise NotPermitted(
                f"matcher {self.actor.id} is bound to deployment {self.actor.deployment_id} "
                "and may read only its watchlist"
            )
        if role != Role.OVERSIGHT:
            return None
        access = self.ledger.oversight_access(self.actor)
        if deployment_id is not None:
            access.require(self.ledger.deployment_facts(deployment_id))
        elif own_reads or read in FILTERED_BY_REMIT:
            access.require_in_force()
        else:
            access.require_whole(read.value, INSTEAD.get(read))
        return access

    def _consult(self, read: Read, what: object, purpose: str) -> UUID:
        """Records the consultation; called after the record is known to exist and before any
        of it is opened or returned: a read that cannot be logged does not happen."""
        return self.ledger.record_consultation(
            self.actor, record=f"{read.value}:{what}", purpose=purpose
        )

    def _check_integrity(
        self, *, notification_ids: Iterable[int] = (), originator_ids: Iterable[UUID] = ()
    ) -> None:
        """Every event read is checked against signed history before anything of it is
        returned; a failure withholds the read and raises the integrity alarm
        (`integrity.py`)."""
        check_read(
            self.ledger,
            self.settings,
            notification_ids=notification_ids,
            originator_ids=originator_ids,
        )

    def _entry_description(self, entry: WatchlistEntry) -> str | None:
        """An entry's description opened (`[erased]` once shredded); None when none was given,
        as for every entry enrolled before the field existed (issue 25)."""
        sealed: str | None = getattr(entry, "description", None)
        return self.ledger.reveal_text(entry.id, "description", sealed) if sealed else None

    def _in_role(self, what: str) -> str:
        """The purpose the reader's role implies for reading `what` in its own work."""
        return f"{WORK[self.actor.role]} {what}"

    def _statistics_reader(self) -> StatisticsReader:
        if self._statistics is None:
            raise RuntimeError("this reader was built without the statistics (the API builds it)")
        return self._statistics()

    def _settings(self) -> Settings:
        if self.settings is None:
            raise RuntimeError("this reader was built without the settings")
        return self.settings
