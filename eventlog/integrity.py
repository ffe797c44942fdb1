"""The whole check `lfr audit verify` and `GET /audit/verify` run, in one place: a signed
checkpoint (the latest kept, or one given), the hash chain (from the first event, or only after
the checkpoint), and the vault against the log.

Every step runs and reports what it found; none stops or crashes another, so a tampered log is
described in full whatever order the steps meet it in: the chain stops at its first bad row, the
vault check still reads the whole log and names a row it cannot decode. The report also says
exactly which events were re-hashed, so a check since a checkpoint cannot read as a full one.
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

# The steps, in the order their findings are reported.
CHECKPOINT = "checkpoint"
CHAIN = "chain"
VAULT = "vault"


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
        found.extend(Finding(VAULT, v.kind, v.notification_id, v.summary()) for v in self.vault)
        if self.vault_unchecked is not None:
            why = f"the vault could not be checked against the log ({self.vault_unchecked})"
            found.append(Finding(VAULT, "vault_unchecked", None, why))
        return found

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
                text += f"; events 1–{since} not re-hashed (vouched for by its signed head)"
        elif cp is not None and not self.refused:
            text = f"{done}, through {_label(cp, cp.checkpoint_last_id)}"
        else:
            text = done
        if not chain.ok and chain.first_bad_id is not None:
            text += f"; stopped at {chain.first_bad_id} ({chain.reason})"
        return text

    def lines(self) -> list[str]:
        """The report as `lfr audit verify` prints it: the chain's (or the checkpoint's) report
        first, as before, then each other finding."""
        chain, cp = self.chain, self.checkpoint
        lines = [cp.summary() if cp is not None else chain.summary() if chain else ""]
        if self.refused and chain is not None:
            lines.append(chain.summary())  # re-hashed from the first event all the same
        lines.extend(f"TAMPERED: {v.summary()}" for v in self.vault)
        if self.vault_unchecked is not None:
            lines.append(f"UNCHECKED: the vault could not be checked ({self.vault_unchecked})")
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
) -> IntegrityReport:
    """Runs every step and keeps what each found.

    With `checkpoint` the log must extend it, and without `full` only the events after it are
    re-hashed (its signed head vouches for the rest); without one, the chain is re-hashed from
    the first event. `audit_vault(events_table)` checks the vault against that log: it is run
    whatever the chain found (a key can vanish from the vault at any time, and the checkpoint
    vouches for no key)."""
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
    try:
        return IntegrityReport(chain, report, tuple(audit_vault(table)))
    except Exception as e:  # a step reports, never crashes the check (the ledger may not even
        # open on a tampered log: it replays the policy from event 1); the type names it, as
        # the message could quote stored data
        return IntegrityReport(chain, report, (), vault_unchecked=type(e).__name__)
