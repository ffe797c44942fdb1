"""The ledger's side: every kept checkpoint that signs a tree is sent to each configured witness
(`Settings.witnesses`), with a consistency proof from the tree the witness already holds, and
the countersignature it returns is kept beside the checkpoints.

Sending runs after a checkpoint is signed (`lfr serve`'s checkpoint job, `lfr audit
checkpoint`), never inside a write: a witness that is down or slow (a short timeout) costs the
job a log line, and what it did not acknowledge is sent at the next run, in order. A witness that
refuses a checkpoint as inconsistent has seen a rewritten past: that is logged as an error and
kept in its state (`GET /audit/witnesses` shows it) until an acknowledged checkpoint follows.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from lfr_ledger.domain.clock import utcnow
from lfr_ledger.eventlog.chain.wiring import open_chain_reader
from lfr_ledger.eventlog.checkpoint import (
    checkpoints_dir,
    load_or_create_signing_key,
    read_checkpoint,
    sign_if_moved,
)
from lfr_ledger.eventlog.checkpoint_signature import (
    CheckpointError,
    key_id,
    load_public_key,
    public_key_pem,
    tree_of,
)
from lfr_ledger.eventlog.merkle import consistency_proof
from lfr_ledger.eventlog.tree import StoredTree, TreeError
from lfr_ledger.eventlog.witness.protocol import (
    INCONSISTENT,
    STALE,
    SUPERSEDED,
    check_cosignature,
)

if TYPE_CHECKING:
    from lfr_ledger.config.settings import Settings

log = logging.getLogger("lfr.witness")

TIMEOUT_SECONDS = 5.0
_NAME = re.compile(r"^checkpoint-(\d{12})\.json$")


@dataclass(frozen=True)
class Delivery:
    """One run's sending to one witness."""

    url: str
    sent: int  # checkpoints countersigned in this run
    pending: int  # still to send (the next run retries them)
    error: str | None = None  # why the run stopped short: unreachable, refused, …
    refused: bool = False  # the witness refused a checkpoint as inconsistent with its own


def witness_dir(settings: Settings, url: str) -> Path:
    """Where this ledger keeps what one witness acknowledged: its state, countersignatures."""
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", url.split("://", 1)[-1]).strip("_")
    return settings.data_dir / "witnesses" / slug


def read_state(settings: Settings, url: str) -> dict[str, Any]:
    path = witness_dir(settings, url) / "state.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)  # a crash leaves the old state, never half a file


def unacknowledged(settings: Settings, after_id: int) -> list[dict[str, Any]]:
    """Kept checkpoints after `after_id` that sign a tree, in id order; read by file name first,
    so a year of checkpoints is not reopened every minute."""
    folder = checkpoints_dir(settings)
    if not folder.exists():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        match = _NAME.match(path.name)
        if match is None or int(match[1]) <= after_id:
            continue
        checkpoint = read_checkpoint(path)
        if tree_of(checkpoint) is not None:
            found.append(checkpoint)
    return found


def sign_and_send(settings: Settings) -> Path | None:
    """`lfr serve`'s checkpoint job: a checkpoint signed when the log grew, then whatever the
    witnesses have not acknowledged sent (also when nothing new was signed: a witness that was
    down is caught up at the next run)."""
    path = sign_if_moved(settings)
    if settings.witnesses:
        deliver_all(settings)
    return path


def deliver_all(settings: Settings, *, timeout: float = TIMEOUT_SECONDS) -> list[Delivery]:
    """Sends what each configured witness has not acknowledged; never raises."""
    deliveries = []
    for url in settings.witnesses:
        try:
            delivery = deliver(settings, url, timeout=timeout)
        except (CheckpointError, TreeError, OSError, ValueError) as e:
            delivery = Delivery(url, 0, -1, f"not sent: {e}")
        if delivery.error:
            level = logging.ERROR if delivery.refused else logging.WARNING
            log.log(level, "witness %s: %s (%d pending)", url, delivery.error, delivery.pending)
        deliveries.append(delivery)
    return deliveries


def deliver(settings: Settings, url: str, *, timeout: float = TIMEOUT_SECONDS) -> Delivery:
    state = read_state(settings, url)
    pending = unacknowledged(settings, int(state.get("acknowledged_last_id", 0)))
    if not pending:
        return Delivery(url, 0, 0)
    name = settings.ledger_name
    pem = public_key_pem(load_or_create_signing_key(settings).public_key())
    sent = 0
    try:
        with httpx.Client(base_url=url, timeout=timeout) as http:
            witness_key = _witness_key(http, state)
            state["witness_key_id"] = key_id(witness_key)
            held = _held(http, name)
            for checkpoint in pending:
                size, root = tree_of(checkpoint) or (0, b"")
                if held is not None and size < held[0]:
                    _acknowledge(settings, url, state, checkpoint, None)  # superseded
                    continue
                body = {
                    "checkpoint": {k: v for k, v in checkpoint.items() if k != "frontier"},
                    "public_key_pem": pem,
                    "from_size": held[0] if held is not None else 0,
                    "consistency": _proof(settings, checkpoint, held),
                }
                reply = http.post(f"/v1/ledgers/{name}/checkpoints", json=body)
                problem = _problem_kind(reply)
                if reply.status_code in (200, 201):
                    cosignature = reply.json().get("cosignature", {})
                    bad = check_cosignature(cosignature, witness_key)
                    if bad is not None:
                        return _stopped(url, sent, pending, f"countersignature refused: {bad}")
                    _acknowledge(settings, url, state, checkpoint, cosignature)
                    held, sent = (size, root), sent + 1
                elif problem == SUPERSEDED:
                    _acknowledge(settings, url, state, checkpoint, None)
                elif problem == STALE:
                    return _stopped(url, sent, pending, "the witness moved on; sent next run")
                else:
                    why = _detail(reply)
                    if problem == INCONSISTENT:
                        state["refused"] = {
                            "last_id": checkpoint["last_id"],
                            "detail": why,
                            "at": utcnow().isoformat(timespec="seconds"),
                        }
                        _write_json(witness_dir(settings, url) / "state.json", state)
                    return _stopped(
                        url,
                        sent,
                        pending,
                        f"refused checkpoint id {checkpoint['last_id']}: {why}",
                        refused=problem == INCONSISTENT,
                    )
    except httpx.HTTPError as e:
        return _stopped(url, sent, pending, f"unreachable ({type(e).__name__})")
    return Delivery(url, sent, 0)


def _stopped(
    url: str, sent: int, pending: list[dict[str, Any]], error: str, *, refused: bool = False
) -> Delivery:
    return Delivery(url, sent, len(pending) - sent, error, refused)


def _witness_key(http: httpx.Client, state: dict[str, Any]) -> Any:
    reply = http.get("/v1/key")
    reply.raise_for_status()
    key = load_public_key(str(reply.json().get("public_key_pem", "")).encode())
    pinned = state.get("witness_key_id")
    if pinned is not None and pinned != key_id(key):
        raise CheckpointError(f"the witness's key changed (was {pinned}): not sent")
    return key


def _held(http: httpx.Client, name: str) -> tuple[int, bytes] | None:
    """The tree size and root of the latest checkpoint the witness holds of this ledger."""
    reply = http.get(f"/v1/ledgers/{name}")
    if reply.status_code == 404:
        return None
    reply.raise_for_status()
    latest = reply.json()
    return int(latest["tree_size"]), bytes.fromhex(latest["root"])


def _proof(
    settings: Settings, checkpoint: dict[str, Any], held: tuple[int, bytes] | None
) -> list[str]:
    size = checkpoint["tree_size"]
    if held is None or held[0] in (0, size):
        return []
    with open_chain_reader(settings, checkpoint["events_table"]) as reader:
        tree = StoredTree(reader, size)
        return [h.hex() for h in consistency_proof(held[0], size, tree.subtree)]


def _acknowledge(
    settings: Settings,
    url: str,
    state: dict[str, Any],
    checkpoint: dict[str, Any],
    cosignature: dict[str, Any] | None,
) -> None:
    folder = witness_dir(settings, url)
    if cosignature is not None:
        _write_json(folder / f"cosignature-{int(checkpoint['last_id']):012d}.json", cosignature)
    state["url"] = url
    state["acknowledged_last_id"] = checkpoint["last_id"]
    state["acknowledged_at"] = utcnow().isoformat(timespec="seconds")
    state.pop("refused", None)
    _write_json(folder / "state.json", state)


def _problem_kind(reply: httpx.Response) -> str | None:
    if reply.status_code < 400:
        return None
    try:
        kind = str(reply.json().get("type", ""))
    except ValueError:
        return None
    return kind.rsplit(":", 1)[-1]


def _detail(reply: httpx.Response) -> str:
    try:
        return str(reply.json().get("detail", ""))[:500] or f"HTTP {reply.status_code}"
    except ValueError:
        return f"HTTP {reply.status_code}"
