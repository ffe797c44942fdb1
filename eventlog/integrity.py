"""The whole check `lfr audit verify` and `GET /audit/verify` run, in one place: a signed
checkpoint (the latest kept, or one given), the hash chain (from the first event, or only after
the checkpoint), and the vault against the log.

Every step runs and reports what it found; none stops or crashes another, so a tampered log is
described in full whatever order the steps meet it in: the chain stops at its first bad row, the
vault check still reads the whole log and names a row it cannot decode. The report also says
exactly which events were re-hashed, so a check since a checkpoint cannot read as a full one;
the default check adds what the rolling re-verification (`rolling.py`) last re-hashed under the
checkpoint, and reports the row its last pass stopped at (step `rolling`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.eventlog.checkpoint import CheckpointReport, verify_checkpoint
from lfr_ledger.eventlog.key_audit import MissingKey, VaultFinding

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from lfr_ledger.config.settings import Settings
    from lfr_ledger.eventlog.chain.verify import ChainReport
    from lfr_ledger.eventlog.rolling import RollingState
    from lfr_ledger.eventlog.witness.compare import WitnessComparison

# The steps, in the order their findings are reported.
CHECKPOINT = "checkpoint"
CHAIN = "chain"
ROLLING = "rolling"
VAULT = "vault"
WITNESS = "witness"


@dataclass(frozen=True)
class Finding:
    """One thing a step found wrong. `kind` is the chain's reason (altered, deleted, inserted,
    reordered, chain_altered, chain_missing, checkpoint_mismatch), checkpoint_refused, or the
    vault's (key_missing, undecodable, vault_unchecked); `notification_id` locates it when it
    can be located."""

    step: str
    kind: str
    notification_id: int | None
    detail: str


@dataclass(frozen=True)
class IntegrityReport:
    """What every step found. `chain` is None only when a refused checkpoint left nothing to
    start from (without `full`, the log is then not re-hashed: the refusal is the finding)."""

    chain: ChainReport | None
    checkpoint: CheckpointReport | None
    vault: tuple[VaultFinding, ...]
    # Why the vault could not be checked at all (an exception's type), if it could not.
    vault_unchecked: str | None = None
    # The rolling re-verification's record (`rolling.py`): what its passes re-hashed of the
    # events a check since a checkpoint leaves to the checkpoint, and what they found.
    rolling: RollingState | None = None
    rolling_unchecked: str | None = None
    # Whether the rolling record was asked for at all (a `--full` check has no need of it).
    rolling_consulted: bool = False
    # Each witness asked (`lfr audit verify --witness URL`): today's roots against its copies.
    witnesses: tuple[WitnessComparison, ...] = ()

    @property
    def refused(self) -> bool:
        """The checkpoint itself does not hold (signature, key, or a malformed head)."""
        cp = self.checkpoint
        return cp is not None and (not cp.signature_ok or cp.chain is None)

    @property
    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        if self.refused:
            assert self.checkpoint is not None
            reason = self.checkpoint.reason or "refused"
            found.append(Finding(CHECKPOINT, "checkpoint_refused", None, reason))
        chain = self.chain
        if chain is not None and not chain.ok:
            found.append(Finding(CHAIN, chain.reason or "", chain.first_bad_id, chain.detail))
        rolling = self._rolling_finding()
        if rolling is not None:
            found.append(rolling)
        found.extend(Finding(VAULT, v.kind, v.notification_id, v.summary()) for v in self.vault)
        if self.vault_unchecked is not None:
            why = f"the vault could not be checked against the log ({self.vault_unchecked})"
            found.append(Finding(VAULT, "vault_unchecked", None, why))
        found.extend(Finding(WITNESS, *f) for w in self.witnesses for f in w.findings())
        return found

    def _rolling_finding(self) -> Finding | None:
        """What the last finished rolling pass stopped at, unless this check's chain step
        found the same."""
        done = self.rolling.finished if self.rolling is not None else None
        if done is None or done.ok:
            return None
        chain = self.chain
        if chain is not None and (chain.first_bad_id, chain.reason) == (
            done.first_bad_id,
            done.reason,
        ):
            return None
        when = done.finished_at.isoformat(timespec="seconds")
        detail = f"found by the rolling re-verification at {when}: {done.detail}"
        return Finding(ROLLING, done.reason or "", done.first_bad_id, detail)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def full(self) -> bool:
        """The chain was re-hashed from the first event."""
        return self.chain is not None and self.chain.since_id == 0

    @property
    def missing_keys(self) -> list[MissingKey]:
        return [v for v in self.vault if isinstance(v, MissingKey)]

    @property
    def rehashed(self) -> tuple[int, int] | None:
        """The notification ids whose links were recomputed (first, last), if any were."""
        chain = self.chain
        if chain is None or chain.last_id <= chain.since_id:
            return None
        return chain.since_id + 1, chain.last_id

    def verified(self) -> str:
        """Which events were re-hashed and what vouches for the rest, in a sentence."""
        chain, cp = self.chain, self.checkpoint
        if chain is None:
            return "no events re-hashed: the checkpoint is refused and vouches for nothing"
        span = self.rehashed
        since = chain.since_id
        label = _label(cp, since if since else None)
        done = f"events {span[0]}–{span[1]} re-hashed" if span else "no events re-hashed"
        if since:
            text = f"{done} since {label}"
            if chain.ok or (chain.first_bad_id or 0) > since:
                text += self._left_to_checkpoint(since)
            text = self._rolling_words() + text
        elif cp is not None and not self.refused:
            text = f"{done}, through {_label(cp, cp.checkpoint_last_id)}"
        else:
            text = done
        if not chain.ok and chain.first_bad_id is not None:
            text += f"; stopped at {chain.first_bad_id} ({chain.reason})"
        for w in self.witnesses:
            if w.reachable and w.witnessed:
                text += (
                    f"; tree roots over today's links compared at the {w.witnessed} checkpoints "
                    f"{w.url} witnessed (tree sizes up to {w.compared_to_size})"
                )
        return text

    def _rolling_words(self) -> str:
        if self.rolling_unchecked is not None:
            return f"the rolling pass's record could not be read ({self.rolling_unchecked}); "
        return f"{self.rolling.verified()}; " if self.rolling is not None else ""

    def _left_to_checkpoint(self, since: int) -> str:
        """Events 1–`since` that only the checkpoint's signed head vouches for: those the last
        intact rolling pass did not reach (all of them, before one completed)."""
        rolling = self.rolling
        reached = (rolling.intact_last_id or 0) if rolling is not None else 0
        if rolling is None or rolling.intact_at is None or not reached:
            text = f"; events 1–{since} not re-hashed (vouched for by its signed head)"
            if rolling is None and self.rolling_consulted and self.rolling_unchecked is None:
                text += "; no rolling pass has completed yet"
            return text
        if reached >= since:
            return ""
        when = rolling.intact_at.isoformat(timespec="seconds")
        return (
            f"; events {reached + 1}–{since} not re-hashed since {when} (vouched for by its "
            "signed head)"
        )

    def lines(self) -> list[str]:
        """The report as `lfr audit verify` prints it: the chain's (or the checkpoint's) report
        first, as before, then each other finding."""
        chain, cp = self.chain, self.checkpoint
        lines = [cp.summary() if cp is not None else chain.summary() if chain else ""]
        if self.refused and chain is not None:
            lines.append(chain.summary())  # re-hashed from the first event all the same
        rolling = self._rolling_finding()
        if rolling is not None:
            lines.append(
                f"TAMPERED: first bad notification id {rolling.notification_id} "
                f"({rolling.kind}), {rolling.detail}"
            )
        lines.extend(f"TAMPERED: {v.summary()}" for v in self.vault)
        if self.vault_unchecked is not None:
            lines.append(f"UNCHECKED: the vault could not be checked ({self.vault_unchecked})")
        lines.extend(w.line() for w in self.witnesses)
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The chain's report at the top, as `--json` always printed it, with the verdict and
        the first finding over all steps; the checkpoint and every finding beside it."""
        chain, cp = self.chain, self.checkpoint
        data: dict[str, Any] = chain.to_dict() if chain is not None else _no_chain(cp)
        findings = self.findings
        if findings:
            first = findings[0]
            data.update(first_bad_id=first.notification_id, reason=first.kind, detail=first.detail)
        span = self.rehashed
        if cp is not None:
            data["checkpoint"] = {k: v for k, v in cp.to_dict().items() if k != "chain"}
        return {
            **data,
            "ok": self.ok,
            "full": self.full,
            "findings": [asdict(f) for f in findings],
            "missing_keys": [str(m.key_id) for m in self.missing_keys],
            "verified": self.verified(),
            "rehashed_from": span[0] if span else None,
            "rehashed_to": span[1] if span else None,
            "rolling": self.rolling.to_dict() if self.rolling is not None else None,
            "witnesses": [w.to_dict() for w in self.witnesses],
        }


def _label(cp: CheckpointReport | None, last_id: int | None) -> str:
    name = f"checkpoint {cp.name}" if cp is not None and cp.name else "checkpoint"
    return f"{name} (id {last_id})" if last_id is not None else name


def _no_chain(cp: CheckpointReport | None) -> dict[str, Any]:
    """The chain's fields when no chain was re-hashed (the checkpoint was refused)."""
    since = cp.checkpoint_last_id if cp is not None else None
    return {
        "ok": False,
        "events_checked": 0,
        "head": "",
        "last_id": 0,
        "first_bad_id": None,
        "reason": None,
        "detail": "",
        "events_table": "",
        "since_id": since or 0,
    }


def verify_integrity(
    settings: Settings,
    audit_vault: Callable[[str | None], Sequence[VaultFinding]],
    *,
    checkpoint: dict[str, Any] | None = None,
    name: str | None = None,
    public_key: Ed25519PublicKey | None = None,
    full: bool = False,
    events_table: str | None = None,
    rolling: Callable[[str | None], RollingState | None] | None = None,
) -> IntegrityReport:
    """Runs every step and keeps what each found.

    With `checkpoint` the log must extend it, and without `full` only the events after it are
    re-hashed (its signed head vouches for the rest); without one, the chain is re-hashed from
    the first event. `audit_vault(events_table)` checks the vault against that log: it is run
    whatever the chain found (a key can vanish from the vault at any time, and the checkpoint
    vouches for no key). `rolling(events_table)` reads the rolling re-verification's record of
    that log: what it found is reported, and what it re-hashed is said beside this check's."""
    report: CheckpointReport | None = None
    chain: ChainReport | None
    if checkpoint is None:
        chain = verify_ledger(settings, events_table=events_table)
    else:
        report = verify_checkpoint(settings, checkpoint, public_key, full=full, name=name)
        chain = report.chain
        if chain is None and full:
            # Nothing vouches for the log, so the full check re-hashes it from the first event.
            table = events_table or checkpoint.get("events_table") or None
            chain = verify_ledger(settings, events_table=table)
    if chain is not None:
        table = chain.events_table
    else:
        table = checkpoint.get("events_table") if checkpoint is not None else None
    kept, unread = None, None
    if rolling is not None:
        try:
            kept = rolling(table)
        except Exception as e:  # the record's table may be gone: said, never a crash
            unread = type(e).__name__
    try:
        vault, unchecked = tuple(audit_vault(table)), None
    except Exception as e:  # a step reports, never crashes the check (the ledger may not even
        # open on a tampered log: it replays the policy from event 1); the type names it, as
        # the message could quote stored data
        vault, unchecked = (), type(e).__name__
    return IntegrityReport(chain, report, vault, unchecked, kept, unread, rolling is not None)
