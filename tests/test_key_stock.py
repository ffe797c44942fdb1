"""Issue 28: an access record's key comes from a stock the vault makes ahead, a batch per durable
transaction, so the command's only durable write is its event. The key is in the store before
the record names it, a refused command's key is shredded, the keys never handed out are deleted
at close, and a key is served from memory only inside the command that drew it. Both backends,
real vaults."""

from __future__ import annotations

from uuid import UUID

import pytest

from lfr_ledger.api.bootstrap import build_vault
from lfr_ledger.api.demo.sample_deployment import OVERSIGHT
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import ConcurrentWrite
from lfr_ledger.eventlog.vault import STOCK_BATCH, VaultError


def _key_ids(settings: Settings) -> set[UUID]:
    """Every key id the store holds, read through a second vault (another node's view)."""
    other = build_vault(settings)
    try:
        return {key_id for key_id, _ in other._rows(None, 100_000)}
    finally:
        other.close()


def test_one_durable_vault_write_per_batch_of_records(ledger: CaseLedger) -> None:
    writes: list[int] = []
    put_many = ledger.vault._put_many  # type: ignore[attr-defined]

    def counting(rows: list[tuple[UUID, bytes]]) -> None:
        writes.append(len(rows))
        put_many(rows)

    ledger.vault._put_many = counting  # type: ignore[attr-defined]
    ledger.vault.create_key = None  # type: ignore[assignment,method-assign]  # never per command
    ids = [
        ledger.record_consultation(OVERSIGHT, record=f"alert:{i}", purpose="review")
        for i in range(STOCK_BATCH + 1)
    ]
    assert writes == [STOCK_BATCH, STOCK_BATCH]
    assert len(set(ids)) == len(ids)
    for consultation_id in ids:
        stored = ledger.consultation(consultation_id)
        assert ledger.reveal_text(consultation_id, "purpose", stored.purpose) == "review"


def test_keys_are_stored_before_use_and_spares_go_at_close(
    ledger: CaseLedger, settings: Settings
) -> None:
    first = ledger.record_consultation(OVERSIGHT, record="alert:1", purpose="review")
    held = _key_ids(settings)
    assert first in held  # durable in the store, seen by another connection
    spares = held - {first} - {UUID(int=0)}
    assert len(spares) == STOCK_BATCH - 1
    ledger.vault.close()  # type: ignore[attr-defined]
    after = _key_ids(settings)
    assert first in after
    assert not after & spares


def test_a_refused_record_leaves_no_key(ledger: CaseLedger, settings: Settings) -> None:
    def refuse(*aggregates: object) -> None:
        raise ConcurrentWrite("refused")

    ledger._commit = refuse  # type: ignore[method-assign,assignment]
    drawn: list[UUID] = []
    fresh_key = ledger.vault.fresh_key

    def spying() -> object:
        manager = fresh_key()
        real_enter = manager.__enter__

        class Spy:
            def __enter__(self) -> UUID:
                drawn.append(real_enter())
                return drawn[-1]

            def __exit__(self, *exc: object) -> object:
                return manager.__exit__(*exc)  # type: ignore[arg-type]

        return Spy()

    ledger.vault.fresh_key = spying  # type: ignore[method-assign,assignment]
    with pytest.raises(ConcurrentWrite):
        ledger.record_consultation(OVERSIGHT, record="alert:1", purpose="review")
    assert len(drawn) == 1
    assert not ledger.vault.has_key(drawn[0])
    assert drawn[0] not in _key_ids(settings)


def test_a_drawn_key_is_read_from_the_store_once_its_command_is_over(
    ledger: CaseLedger, settings: Settings
) -> None:
    vault = ledger.vault
    with vault.fresh_key() as key_id:
        sealed = vault.seal(key_id, "purpose", b"review")
    other = build_vault(settings)
    try:
        assert other.shred(key_id)  # another node's retention run
    finally:
        other.close()
    assert vault.unseal(key_id, "purpose", sealed) is None
    with pytest.raises(VaultError, match="no key"):
        vault.seal(key_id, "purpose", b"again")
