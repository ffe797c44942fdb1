"""The ledger's history compared with what a witness holds: for every checkpoint the witness
countersigned, the tree's root is recomputed from today's links at that tree size (one pass
over the links, up to the largest size witnessed) and must equal the root the witness holds.
The first that does not is named: an insider who rewrote the log and re-signed every checkpoint
kept here cannot reach the witness's copies.

The roots are recomputed from the stored links; that each event still hashes to its link is
the chain check's part (since the checkpoint by default, the whole log with `--full` and the
rolling pass), reported beside this one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import httpx

from lfr_ledger.eventlog.chain.hashing import MIN_ID
from lfr_ledger.eventlog.chain.wiring import open_chain_reader, resolve_events_table
from lfr_ledger.eventlog.checkpoint_signature import CheckpointError, load_public_key
from lfr_ledger.eventlog.merkle import Frontier
from lfr_ledger.eventlog.tree import links_after
from lfr_ledger.eventlog.witness.client import TIMEOUT_SECONDS
from lfr_ledger.eventlog.witness.protocol import MAX_PAGE, check_cosignature

if TYPE_CHECKING:
    from lfr_ledger.config.settings import Settings

WITNESS = "witness"


@dataclass(frozen=True)
class Mismatch:
    last_id: int  # the witnessed checkpoint's last notification id
    tree_size: int
    witnessed_root: str
    todays_root: str | None  # None: today's log holds fewer links than that
    witnessed_at: str


@dataclass(frozen=True)
class WitnessComparison:
    url: str
    ledger: str
    reachable: bool
    witnessed: int = 0  # checkpoints of this ledger the witness holds
    compared_to_size: int = 0  # the largest tree size compared
    first_mismatch: Mismatch | None = None
    # Why nothing (or not everything) could be compared: unreachable, a bad countersignature.
    problem: str | None = None

    def findings(self) -> list[tuple[str, int | None, str]]:
        """(kind, notification id, detail) of what is wrong, as `integrity.py` lists them."""
        found: list[tuple[str, int | None, str]] = []
        if self.problem is not None:
            kind = "witness_unreachable" if not self.reachable else "witness_refused"
            found.append((kind, None, f"{self.url}: {self.problem}"))
        elif self.witnessed == 0:
            found.append(
                ("witness_holds_nothing", None, f"{self.url} holds no checkpoint of {self.ledger}")
            )
        m = self.first_mismatch
        if m is not None:
            today = (
                f"today's links give root {m.todays_root}"
                if m.todays_root is not None
                else "today's log holds fewer links than that"
            )
            found.append(
                (
                    "witness_mismatch",
                    m.last_id,
                    f"checkpoint id {m.last_id} (tree size {m.tree_size}), witnessed by "
                    f"{self.url} at {m.witnessed_at}, no longer matches: the witness holds root "
                    f"{m.witnessed_root}, {today}",
                )
            )
        return found

    def line(self) -> str:
        found = self.findings()
        if found:
            return "\n".join(
                f"{'UNCHECKED' if kind == 'witness_unreachable' else 'TAMPERED'}: witness: {detail}"
                for kind, _, detail in found
            )
        return (
            f"OK: witness {self.url}: {self.witnessed} witnessed checkpoints of {self.ledger} "
            f"match today's log (tree sizes up to {self.compared_to_size})"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fetch_witnessed(http: httpx.Client, ledger: str) -> list[dict[str, Any]]:
    """Every checkpoint the witness holds of `ledger`, by tree size, a page at a time."""
    found: list[dict[str, Any]] = []
    after = -1
    while True:
        reply = http.get(
            f"/v1/ledgers/{ledger}/checkpoints", params={"after_size": after, "limit": MAX_PAGE}
        )
        reply.raise_for_status()
        page = reply.json().get("witnessed", [])
        found.extend(page)
        if len(page) < MAX_PAGE:
            return found
        after = int(page[-1]["tree_size"])


def roots_at(settings: Settings, events_table: str, sizes: list[int]) -> dict[int, bytes]:
    """The tree's root over today's links at each of `sizes` (absent: fewer links than that)."""
    wanted = sorted(set(sizes))
    roots: dict[int, bytes] = {}
    if not wanted:
        return roots
    tree, i = Frontier(), 0
    with open_chain_reader(settings, events_table) as reader:
        for link in links_after(reader, MIN_ID, 2**62):
            while i < len(wanted) and wanted[i] == tree.size:
                roots[wanted[i]] = tree.root()
                i += 1
            if i == len(wanted):
                return roots
            tree.append(link.hash)
    while i < len(wanted) and wanted[i] == tree.size:
        roots[wanted[i]] = tree.root()
        i += 1
    return roots


def compare_with_witness(
    settings: Settings,
    url: str,
    *,
    events_table: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> WitnessComparison:
    ledger = settings.ledger_name
    url = url.rstrip("/")
    try:
        with httpx.Client(base_url=url, timeout=timeout) as http:
            reply = http.get("/v1/key")
            reply.raise_for_status()
            key = load_public_key(str(reply.json().get("public_key_pem", "")).encode())
            witnessed = fetch_witnessed(http, ledger)
    except (httpx.HTTPError, ValueError, CheckpointError) as e:
        return WitnessComparison(url, ledger, False, problem=f"unreachable ({type(e).__name__})")
    for entry in witnessed:
        cosignature = entry.get("cosignature") or {}
        bad = check_cosignature(cosignature, key)
        if bad is None and (cosignature["root"], cosignature["tree_size"]) != (
            entry.get("root"),
            entry.get("tree_size"),
        ):
            bad = "it countersigns another tree than the one listed"
        if bad is not None:
            problem = f"the countersignature of tree size {entry.get('tree_size')}: {bad}"
            return WitnessComparison(url, ledger, True, len(witnessed), problem=problem)
    table = resolve_events_table(settings, events_table)
    sizes = [int(e["tree_size"]) for e in witnessed]
    roots = roots_at(settings, table, sizes) if table is not None else {}
    for entry in witnessed:
        today = roots.get(int(entry["tree_size"]))
        if today is None or today.hex() != entry["root"]:
            mismatch = Mismatch(
                int(entry["last_id"]),
                int(entry["tree_size"]),
                str(entry["root"]),
                today.hex() if today is not None else None,
                str(entry.get("witnessed_at", "")),
            )
            return WitnessComparison(
                url, ledger, True, len(witnessed), max(sizes, default=0), mismatch
            )
    return WitnessComparison(url, ledger, True, len(witnessed), max(sizes, default=0))
