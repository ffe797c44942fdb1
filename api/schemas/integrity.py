"""Integrity beyond one verification: the alarms raised in the log, and the log compared with
what each witness holds. Ids, hashes, times and the verifier's words: no personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply

HEX_ROOT = "A tree root, 64 hex digits"


class Alarm(Reply):
    """Tampering a check found and recorded in the log (`IntegrityAlarm`)."""

    id: Annotated[UUID, Meta(description="The alarm's id (one per table, event and kind)")]
    notification_id: Annotated[
        int | None, Meta(description="The event it names, when it names one", examples=[58])
    ]
    kind: Annotated[
        str,
        Meta(
            description="What was found, as the verifier names it",
            examples=["altered", "not_included", "checkpoint_mismatch"],
        ),
    ]
    detail: Annotated[str, Meta(description="The verifier's words: ids and hashes only")]
    found_by: Annotated[
        str,
        Meta(
            description="rolling_reverification (the scheduled pass) or inclusion_check (a "
            "read of the record, which was refused)",
            examples=["inclusion_check"],
        ),
    ]
    events_table: Annotated[str, Meta(description="The log it was found in")]
    occurred_at: Annotated[datetime, Meta(description="When it was found")]


class Alarms(Reply):
    alarms: Annotated[list[Alarm], Meta(description="Newest first, at most `limit`")]


class WitnessMismatch(Reply):
    """The first witnessed checkpoint that today's log no longer matches."""

    last_id: Annotated[int, Meta(description="The witnessed checkpoint's last notification id")]
    tree_size: Annotated[int, Meta(description="Leaves (events) in its tree")]
    witnessed_root: Annotated[str, Meta(description=f"{HEX_ROOT}: what the witness holds")]
    todays_root: Annotated[
        str | None,
        Meta(description=f"{HEX_ROOT}: today's links at that size; null: fewer links remain"),
    ]
    witnessed_at: Annotated[str, Meta(description="When the witness countersigned it")]


class WitnessStatus(Reply):
    url: Annotated[str, Meta(description="The witness (LFR_WITNESSES)")]
    reachable: Annotated[bool, Meta(description="It answered")]
    witnessed: Annotated[int, Meta(description="Checkpoints of this ledger the witness holds")]
    compared_to_size: Annotated[int, Meta(description="The largest tree size compared")]
    first_mismatch: Annotated[
        WitnessMismatch | None,
        Meta(description="The first witnessed checkpoint today's log no longer matches"),
    ]
    problem: Annotated[str | None, Meta(description="Why it could not be compared")]
    acknowledged_last_id: Annotated[
        int | None, Meta(description="The last checkpoint the witness countersigned for us")
    ]
    refused: Annotated[
        str | None,
        Meta(description="The witness refused our latest checkpoint as inconsistent: why"),
    ]


class Witnesses(Reply):
    ledger: Annotated[str, Meta(description="The name the witnesses know this ledger by")]
    ok: Annotated[bool, Meta(description="Every witness reached and every root matches")]
    witnesses: Annotated[list[WitnessStatus], Meta(description="One per configured witness")]
