"""The oversight body's view of the log: consultations and verification. A deployment's
history, typed per event topic, is in `history.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply

NEXT_AFTER = "Pass it as `after` for the next page; null on the last page (fewer than `limit` rows)"


class Consultation(Reply):
    """One read of personal data, as logged when it happened."""

    notification_id: Annotated[
        int, Meta(description="Its position in the log: page with `after`", examples=[1042])
    ]
    id: Annotated[UUID, Meta(description="The consultation's own id")]
    record: Annotated[
        str,
        Meta(
            description="What was read: kind and id",
            examples=["watchlist_entry:5f0c3a52-8d1e-4c6f-9b7a-2e4d6f8a0b1c"],
        ),
    ]
    purpose: Annotated[
        str,
        Meta(
            description='The purpose stated (X-Purpose or `purpose`); "[erased]" once '
            "`retention.access_log_years` passed",
            examples=["Adjudicating alert 9b2d7c1e for incident 4711"],
        ),
    ]
    actor_id: Annotated[str, Meta(description="Who read it (staff number)", examples=["PC4711"])]
    occurred_at: Annotated[datetime, Meta(description="When it was read")]
    body: Annotated[
        str | None,
        Meta(
            description="The oversight body the reader acted for (its code); null for a reader "
            "acting for none",
            examples=["ICO"],
        ),
    ] = None


class Consultations(Reply):
    """A page of the access log, oldest first."""

    consultations: Annotated[list[Consultation], Meta(description="The page's consultations")]
    next_after: Annotated[int | None, Meta(description=NEXT_AFTER)]


class CheckpointStatus(Reply):
    """The latest checkpoint this node signed, checked against the log as it is now."""

    last_id: Annotated[int, Meta(description="The last notification id it covers")]
    head: Annotated[str, Meta(description="The hash chain's head at that id (hex)")]
    created_at: Annotated[str, Meta(description="When it was signed (ISO 8601)")]
    key_id: Annotated[str, Meta(description="The id of the signing key")]
    signature_ok: Annotated[bool, Meta(description="Whether its signature verifies")]
    extends: Annotated[bool, Meta(description="the log still passes through its head")]
    reason: Annotated[str | None, Meta(description="Why it does not hold, if it does not")]
    previous_id: Annotated[
        int | None,
        Meta(
            description="The last id of the checkpoint it extends (named in its signed "
            "`previous`); null for a first checkpoint"
        ),
    ] = None


class Finding(Reply):
    """One thing a step of the verification found wrong."""

    step: Annotated[
        str,
        Meta(description="Which step found it: checkpoint, chain or vault", examples=["chain"]),
    ]
    kind: Annotated[
        str,
        Meta(
            description="What it found: the chain's altered, deleted, inserted, reordered, "
            "chain_altered, chain_missing or checkpoint_mismatch; checkpoint_refused; the "
            "vault's key_missing, or undecodable (an event whose payload no longer fits its "
            "topic)",
            examples=["reordered"],
        ),
    ]
    notification_id: Annotated[
        int | None, Meta(description="The event it concerns, when it can be located")
    ]
    detail: Annotated[str, Meta(description="What was found, in a sentence")]


class RollingPass(Reply):
    """A pass of the rolling re-verification that finished: at the head of the log, or at the
    first bad row it met."""

    started_at: Annotated[datetime, Meta(description="When the pass began, at event 1")]
    finished_at: Annotated[datetime, Meta(description="When it reached the head or stopped")]
    rehashed_to: Annotated[
        int, Meta(description="Events 1 to this id were re-hashed and chain as when written")
    ]
    events: Annotated[int, Meta(description="How many events the pass re-hashed")]
    first_bad_id: Annotated[
        int | None, Meta(description="The row it stopped at, tampered with; null when intact")
    ] = None
    reason: Annotated[str | None, Meta(description="The kind of tampering found there")] = None
    detail: Annotated[str, Meta(description="What was found, in a sentence")] = ""


class RollingStatus(Reply):
    """The rolling re-verification (`lfr serve`, every minute): the whole log re-hashed in
    slices within `LFR_REVERIFY_PERIOD_HOURS`, so events under a checkpoint are looked at
    again."""

    started_at: Annotated[datetime, Meta(description="When the pass under way began")]
    rehashed_to: Annotated[
        int, Meta(description="The pass under way re-hashed events 1 to this id so far")
    ]
    updated_at: Annotated[datetime, Meta(description="When its latest slice ran")]
    last_pass: Annotated[
        RollingPass | None, Meta(description="The last pass that finished; null before one")
    ] = None
    last_intact_pass_at: Annotated[
        datetime | None,
        Meta(description="When a pass last reached the head and found nothing; null before"),
    ] = None
    last_intact_pass_to: Annotated[
        int | None, Meta(description="The last id that intact pass re-hashed")
    ] = None
    events_rehashed_total: Annotated[
        int, Meta(description="Events re-hashed by every slice so far")
    ] = 0


class Verification(Reply):
    """The hash chain recomputed since the latest signed checkpoint (or over the whole log),
    and the vault's keys checked."""

    ok: Annotated[
        bool,
        Meta(description="True when every event is unaltered and no key is missing unrecorded"),
    ]
    events_checked: Annotated[
        int, Meta(description="How many events were checked (since `since_id` when set)")
    ]
    last_id: Annotated[int, Meta(description="The last notification id checked")]
    head: Annotated[str, Meta(description="The chain's head after the last event (hex)")]
    first_bad_id: Annotated[
        int | None,
        Meta(
            description="The first altered (or missing) event's id, if any: the first "
            "finding's (for a missing key, the event that created it)"
        ),
    ]
    reason: Annotated[
        str | None,
        Meta(
            description="Why the check failed (the first finding's kind): altered, deleted, "
            "inserted or reordered (an event), chain_altered or chain_missing (a link), "
            "checkpoint_mismatch (the log no longer passes through the checkpoint's head), "
            "checkpoint_refused (its signature fails), key_missing or undecodable (the "
            "vault's); null when ok"
        ),
    ]
    detail: Annotated[str, Meta(description="What was found, in a sentence")]
    # Keys the log says exist that the vault lacks, with no erasure recorded: silent erasures.
    missing_keys: Annotated[
        list[str],
        Meta(
            description="Keys the log says exist that the vault lacks, with no erasure "
            "recorded: silent erasures"
        ),
    ] = msgspec.field(default_factory=list)
    checkpoint: Annotated[
        CheckpointStatus | None,
        Meta(description="the latest signed checkpoint (`lfr serve` signs one as the log grows)"),
    ] = None
    full: Annotated[
        bool,
        Meta(description="True when the chain was recomputed from the first event"),
    ] = True
    since_id: Annotated[
        int | None,
        Meta(
            description="The checkpoint's id the chain was recomputed after (its signed head "
            "vouches for what is before); null when recomputed from the first event"
        ),
    ] = None
    findings: Annotated[
        list[Finding],
        Meta(
            description="Everything every step found, the checkpoint's and the chain's first, "
            "then the vault's; `first_bad_id` and `reason` are the first's. Empty when ok"
        ),
    ] = msgspec.field(default_factory=list)
    verified: Annotated[
        str,
        Meta(
            description="Which events were re-hashed, and what vouches for the rest",
            examples=[
                "events 444–446 re-hashed since checkpoint checkpoint-000000000443.json "
                "(id 443); events 1–443 not re-hashed (vouched for by its signed head)"
            ],
        ),
    ] = ""
    rehashed_from: Annotated[
        int | None,
        Meta(description="The first notification id whose link was recomputed; null if none"),
    ] = None
    rehashed_to: Annotated[
        int | None,
        Meta(description="The last notification id whose link was recomputed; null if none"),
    ] = None
    rolling: Annotated[
        RollingStatus | None,
        Meta(
            description="The rolling re-verification's record, read by the default check "
            "(what it re-hashed under the checkpoint, and the row its last pass stopped at, "
            "which is then a finding of step `rolling`); null with `full=true`, or before its "
            "first slice"
        ),
    ] = None
