"""Oversight: a deployment's full event history, the access log, and integrity verification."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from lfr_ledger.api.dependencies import (
    PURPOSE_REQUIRED,
    OversightBodyQuery,
    PurposeHeader,
    PurposeQuery,
    ReadsDep,
    ServicesDep,
    require_purpose,
)
from lfr_ledger.api.personal_data import HistoryEvent
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.audit import (
    CheckpointStatus,
    Consultation,
    Consultations,
    Finding,
    RollingPass,
    RollingStatus,
    Verification,
)
from lfr_ledger.api.schemas.event_fields import SEALED
from lfr_ledger.api.schemas.history import ActorOut, History, RecordedEvent, recorded_event
from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.sealing import is_sealed_text
from lfr_ledger.eventlog.checkpoint import CheckpointReport
from lfr_ledger.eventlog.rolling import RollingState

_ENVELOPE = {"originator_id", "originator_version", "timestamp", "actor", "occurred_at"}


def _jsonable(value: Any) -> Any:
    """Event attributes as JSON values; bytes and sealed text are always sealed personal data."""
    if isinstance(value, bytes) or is_sealed_text(value):
        return SEALED
    if isinstance(value, Actor):
        return value.as_dict()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def _actor(actor: Actor) -> ActorOut:
    return ActorOut(
        id=actor.id,
        role=actor.role.value,
        rank=actor.rank,
        force=actor.force,
        deployment_id=actor.deployment_id,
    )


def _event_data(event: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in vars(event).items():
        if name in _ENVELOPE:
            continue
        if name.startswith("sealed_") or name == "subject_digest":
            # Sealed fields stay sealed here; the digest is a pseudonym of the subject.
            data[name] = None if value is None else SEALED
        else:
            data[name] = _jsonable(value)
    return data


def _recorded(read: HistoryEvent) -> RecordedEvent:
    """One event of a deployment's history as oversight sees it: sealed fields stay sealed."""
    n, event = read.notification, read.event
    actor = getattr(event, "actor", None)
    occurred = getattr(event, "occurred_at", None)
    return recorded_event(
        n.topic,
        _event_data(event),
        notification_id=n.id,
        originator_id=read.originator_id,
        originator_version=n.originator_version,
        recorded_at=getattr(event, "timestamp", None),
        occurred_at=occurred if isinstance(occurred, datetime) else None,
        actor=_actor(actor) if isinstance(actor, Actor) else None,
    )


class AuditController(Controller):
    path = "/"
    tags = ("oversight",)

    @get(
        "/deployments/{deployment_id:uuid}/history",
        sync_to_thread=True,
        summary="The deployment's full event history (oversight; purpose required, logged)",
        description="Topics, times, actors and notification ids of every event of the "
        "deployment, its watchlist entries, alerts and face counts. Sealed personal fields are "
        'shown only as "[sealed]"; each event\'s `topic` names its shape.\n\n' + PURPOSE_REQUIRED,
        responses=problem_spec(400, 401, 403, 404),
    )
    def history(
        self,
        deployment_id: FromPath[UUID],
        reads: ReadsDep,
        x_purpose: PurposeHeader = None,
        purpose: PurposeQuery = None,
    ) -> History:
        stated = require_purpose(x_purpose, purpose)
        events = reads.history(deployment_id, purpose=stated)
        return History(deployment_id=deployment_id, events=[_recorded(e) for e in events])

    @get(
        "/audit/consultations",
        sync_to_thread=True,
        summary="The access log: who read which personal data, and why (oversight)",
        description="With `body`, only the reads of readers acting for that oversight body "
        "(each body's reads apart). An oversight body of limited remit may read only its own "
        "(`body` = its code); any other reading of the log spans every deployment and is "
        "refused to it (403 `outside-grant`).",
        responses=problem_spec(400, 401, 403, 422),
    )
    def consultations(
        self,
        reads: ReadsDep,
        after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        of_body: OversightBodyQuery = None,
    ) -> Consultations:
        batch = reads.consultations(after, limit, body=of_body)
        items = [
            Consultation(
                notification_id=c.notification_id,
                id=c.id,
                record=c.event.record,
                purpose=c.purpose or "",
                actor_id=c.event.actor.id,
                occurred_at=c.event.occurred_at,
                body=c.event.actor.body,
            )
            for c in batch
        ]
        return Consultations(
            consultations=items,
            next_after=batch[-1].notification_id if len(batch) == limit else None,
        )

    @get(
        "/audit/verify",
        sync_to_thread=True,
        summary="Recompute the hash chain since the latest signed checkpoint, or with "
        "`full=true` from the first event, and name the first altered event, if any (oversight)",
        description="By default only the events after the latest checkpoint this node signed "
        "are recomputed, once its signature holds and its head is still the stored link at "
        "its id: the work follows what is new, not the size of the log, and an event altered "
        "before the checkpoint is left to it (its signed head vouches for it). `full=true` "
        "recomputes the whole chain, through the checkpoint. The vault's keys are checked "
        "against the whole log either way. Every step runs and reports: a tampered log is "
        "answered with `ok: false` and every finding (`findings`, the first also as "
        "`first_bad_id` and `reason`), and `verified` says which events were re-hashed. The "
        "default check also reads the rolling re-verification's record (`rolling`): the events "
        "its last completed pass re-hashed under the checkpoint, and the row a pass stopped at "
        "(a finding of step `rolling`: the alarm stands until a pass finds the log intact).",
        responses=problem_spec(401, 403),
    )
    def verify(
        self,
        services: ServicesDep,
        full: Annotated[
            bool,
            QueryParameter(
                description="Recompute the chain from the first event, not only since the "
                "latest signed checkpoint"
            ),
        ] = False,
    ) -> Verification:
        from lfr_ledger.eventlog.checkpoint import latest_checkpoint_path, read_checkpoint
        from lfr_ledger.eventlog.integrity import verify_integrity
        from lfr_ledger.eventlog.key_audit import audit_vault
        from lfr_ledger.eventlog.tombstones import TombstoneJournal
        from lfr_ledger.projections.reverification import load_rolling

        settings = services.settings
        tombstones = settings.tombstones_path
        path = latest_checkpoint_path(settings)
        checkpoint = read_checkpoint(path) if path is not None else None
        # The vault is checked whole either way: it lies outside the chain, so a key created
        # long before the checkpoint can vanish today, and the checkpoint vouches for no key.
        report = verify_integrity(
            settings,
            lambda _table: audit_vault(
                services.ledger, TombstoneJournal(tombstones).lost_erasures()
            ),
            checkpoint=checkpoint,
            name=path.name if path is not None else None,
            full=full,
            # What the rolling re-verification re-hashed under the checkpoint, and found.
            rolling=None if full else lambda table: load_rolling(settings, table),
        )
        chain, findings = report.chain, report.findings
        first = findings[0] if findings else None
        span = report.rehashed
        return Verification(
            checkpoint=_checkpoint_status(checkpoint, report.checkpoint),
            ok=report.ok,
            events_checked=chain.events_checked if chain else 0,
            last_id=chain.last_id if chain else 0,
            head=chain.head if chain else "",
            first_bad_id=first.notification_id if first else None,
            reason=first.kind if first else None,
            detail=first.detail if first else (chain.detail if chain else ""),
            missing_keys=[str(m.key_id) for m in report.missing_keys],
            full=report.full,
            since_id=(chain.since_id or None) if chain else None,
            findings=[
                Finding(
                    step=f.step, kind=f.kind, notification_id=f.notification_id, detail=f.detail
                )
                for f in findings
            ],
            verified=report.verified(),
            rehashed_from=span[0] if span else None,
            rehashed_to=span[1] if span else None,
            rolling=_rolling_status(report.rolling),
        )


def _rolling_status(state: RollingState | None) -> RollingStatus | None:
    if state is None:
        return None
    done = state.finished
    return RollingStatus(
        started_at=state.started_at,
        rehashed_to=state.anchor_id,
        updated_at=state.updated_at,
        last_pass=None
        if done is None
        else RollingPass(
            started_at=done.started_at,
            finished_at=done.finished_at,
            rehashed_to=done.last_id,
            events=done.events,
            first_bad_id=done.first_bad_id,
            reason=done.reason,
            detail=done.detail,
        ),
        last_intact_pass_at=state.intact_at,
        last_intact_pass_to=state.intact_last_id,
        events_rehashed_total=state.rehashed_total,
    )


def _checkpoint_status(
    checkpoint: dict[str, Any] | None, report: CheckpointReport | None
) -> CheckpointStatus | None:
    """The latest signed checkpoint as checked against the log (None without one). Its fields
    are read as found: a refused one may have been edited into any shape."""
    if checkpoint is None or report is None:
        return None
    last_id = checkpoint.get("last_id")
    return CheckpointStatus(
        last_id=last_id if isinstance(last_id, int) else 0,
        head=str(checkpoint.get("head", "")),
        created_at=str(checkpoint.get("created_at", "")),
        key_id=str(checkpoint.get("key_id", "")),
        signature_ok=report.signature_ok,
        extends=report.extends,
        reason=report.reason,
        previous_id=report.previous_id,
    )
