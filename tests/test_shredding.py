"""Crypto-shredding: after a key is deleted, no copy of the store holds the personal data,
yet every aggregate still loads and the hash chain still verifies. Both backends."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import numpy as np
import psycopg

from lfr_ledger.api.demo.sample_deployment import COMPILER, OPERATOR, authorised, subject
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import ERASED
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from tests.conftest import PG_URL, Clock

NAME = "Quentin Zebedee-Marlowe 1"


def raw_store_bytes(settings: Settings) -> bytes:
    """Every byte the event store and key vault keep, as an attacker with disk access sees them."""
    if not settings.uses_postgres:
        return b"".join(
            p.read_bytes() for p in sorted(Path(settings.data_dir).rglob("*")) if p.is_file()
        )
    dump = bytearray()
    with psycopg.connect(PG_URL) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (settings.postgres_schema,),
        ).fetchall()
        for (table,) in tables:
            for row in conn.execute(f'SELECT * FROM "{settings.postgres_schema}"."{table}"'):
                for value in row:
                    dump += value if isinstance(value, bytes) else str(value).encode()
    return bytes(dump)


def template() -> bytes:
    vector = np.random.default_rng(7).standard_normal(128).astype(np.float32)
    return (vector / np.linalg.norm(vector)).tobytes()


def test_shredded_entry_reads_erased_everywhere(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    deployment = authorised(ledger)
    tpl = template()
    entry = ledger.enrol(COMPILER, deployment, subject(1), template=tpl, model_id="sface-2021dec")
    revealed = ledger.reveal_entry(entry)
    assert (revealed.name, revealed.template) == (NAME, tpl)

    # Sealed from the start: the clear name and template never reach the event log.
    before = raw_store_bytes(settings)
    assert NAME.encode() not in before
    assert tpl not in before
    key = ledger.vault._get(entry)  # type: ignore[attr-defined]
    assert key is not None and key in before  # the vault really holds it until shredded

    clock.advance(hours=3)
    ledger.end_deployment(OPERATOR, deployment)
    destroyed = ledger.destroy_watchlist(deployment, rule="retention.watchlist_hours_after_end")
    assert destroyed == [entry]
    if settings.uses_postgres:
        ledger.vault.vacuum()  # type: ignore[attr-defined]

    after = raw_store_bytes(settings)
    assert key not in after, "the shredded key must not linger in the key store"
    assert NAME.encode() not in after and tpl not in after

    # The log is intact: the entry still loads (from a fresh process) and reads as erased.
    assert ledger.watchlist_entry(entry).status == "destroyed"
    revealed = ledger.reveal_entry(entry)
    assert (revealed.name, revealed.subject_ref, revealed.template) == (ERASED, ERASED, None)
    assert revealed.erased
    report = verify_ledger(settings)
    assert report.ok, report.summary()


def test_erasure_is_recorded_as_metadata_only(ledger: CaseLedger, clock: Clock) -> None:
    deployment = authorised(ledger)
    entries = [ledger.enrol(COMPILER, deployment, subject(i)) for i in range(3)]
    clock.advance(hours=3)
    ledger.end_deployment(OPERATOR, deployment)
    ledger.destroy_watchlist(deployment, rule="retention.watchlist_hours_after_end")
    events = list(ledger.repository.event_store.get(deployment))
    destroyed = events[-1]
    assert type(destroyed).__name__ == "WatchlistDestroyed"
    assert destroyed.manifest == entries  # type: ignore[attr-defined]
    assert destroyed.rule == "retention.watchlist_hours_after_end"  # type: ignore[attr-defined]
    assert all(not ledger.vault.has_key(e) for e in entries)
    # Shredding twice is harmless: the keys are simply gone.
    assert all(not ledger.vault.shred(UUID(str(e))) for e in entries)
