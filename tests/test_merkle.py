"""Issue 23: the Merkle tree over the chain (RFC 9162) that checkpoints sign.

The hashing and shape against Certificate Transparency's published roots, proofs against a
naive recursion for every size and index up to 70, and the stored tree on both backends: a
checkpoint's root is the root of the log's links, extended from the predecessor's frontier, kept
in blocks of 1,024 leaves from which inclusion and consistency proofs are made, and checked
against the signed root (a forged frontier, a rewritten past, missing block roots). Old
checkpoints (versions 1 and 2, without a root) still verify.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog import merkle
from lfr_ledger.eventlog.chain.wiring import open_chain_reader
from lfr_ledger.eventlog.checkpoint import (
    load_or_create_signing_key,
    make_checkpoint,
    save_checkpoint,
    verify_checkpoint,
)
from lfr_ledger.eventlog.checkpoint_signature import (
    CheckpointError,
    check_signature,
    key_id,
    sign,
    tree_of,
)
from lfr_ledger.eventlog.merkle import BLOCK, Frontier, ProofError
from lfr_ledger.eventlog.tree import BLOCKS_TABLE, StoredTree, TreeError, links_after
from tests.test_audit_chain import RawDB, _open_app, ledger_settings  # noqa: F401

# Certificate Transparency's test vectors (RFC 6962's tree, which RFC 9162 keeps).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def naive_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, word for word."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + naive_root(leaves[:k]) + naive_root(leaves[k:])).digest()


def test_roots_are_certificate_transparency_roots() -> None:
    assert merkle.root_of([]) == hashlib.sha256(b"").digest()
    for n, expected in enumerate(CT_ROOTS, start=1):
        assert merkle.root_of(CT_LEAVES[:n]).hex() == expected


def test_proofs_for_every_size_and_index_against_the_naive_tree() -> None:
    links = [hashlib.sha256(str(i).encode()).digest() for i in range(70)]

    def subtree(start: int, end: int) -> bytes:
        return naive_root(links[start:end])

    for n in range(1, 71):
        root = naive_root(links[:n])
        assert merkle.root_of(links[:n]) == root
        for i in range(n):
            path = merkle.inclusion_proof(i, n, subtree)
            assert merkle.root_from_inclusion(merkle.leaf_hash(links[i]), i, n, path) == root
            if path:  # a wrong sibling gives another root
                bent = [bytes(32), *path[1:]]
                assert merkle.root_from_inclusion(merkle.leaf_hash(links[i]), i, n, bent) != root
        for m in range(n + 1):
            proof = merkle.consistency_proof(m, n, subtree)
            merkle.verify_consistency(m, n, naive_root(links[:m]), root, proof)
            if 0 < m < n:
                forged = naive_root([*links[: m - 1], bytes(32)])
                with pytest.raises(ProofError):
                    merkle.verify_consistency(m, n, forged, root, proof)
                with pytest.raises(ProofError):
                    merkle.verify_consistency(m, n, naive_root(links[:m]), root, proof[:-1])


def test_the_frontier_grows_the_same_tree_and_names_full_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(merkle, "BLOCK", 4)
    links = [hashlib.sha256(bytes([i])).digest() for i in range(19)]
    tree = Frontier()
    for n, link in enumerate(links, start=1):
        tree.append(link)
        assert tree.root() == naive_root(links[:n])
        assert len(tree.hashes) == n.bit_count()
    blocks = tree.take_blocks()
    assert [i for i, _ in blocks] == [0, 1, 2, 3]
    assert [r for _, r in blocks] == [naive_root(links[i * 4 : i * 4 + 4]) for i in range(4)]
    again = Frontier.from_hex(tree.size, tree.to_hex())
    assert again.root() == tree.root()
    with pytest.raises(ProofError):
        Frontier.from_hex(tree.size, tree.to_hex()[:-1])


# --- the stored tree, both backends -----------------------------------------------------------


def _record(app: Any, n: int) -> None:
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=uuid.uuid4(),
                originator_version=1,
                topic="tests.merkle:Recorded",
                state=os.urandom(24),
            )
            for _ in range(n)
        ]
    )


def _links(settings: Settings, table: str) -> list[Any]:
    with open_chain_reader(settings, table) as reader:
        return list(links_after(reader, -(2**63), 2**62))


def test_checkpoints_sign_the_root_of_the_links_and_prove_from_blocks(
    ledger_settings: Settings,  # noqa: F811
) -> None:
    app = _open_app(ledger_settings)
    try:
        _record(app, BLOCK + 500)
        first = make_checkpoint(ledger_settings)
        save_checkpoint(ledger_settings, first)
        _record(app, BLOCK + 700)  # the second extends the first's frontier, across a block
        second = make_checkpoint(ledger_settings)
        save_checkpoint(ledger_settings, second)
    finally:
        app.close()
    table = second["events_table"]
    links = _links(ledger_settings, table)
    hashes = [k.hash for k in links]
    assert (first["tree_size"], second["tree_size"]) == (BLOCK + 500, 2 * BLOCK + 1200)
    assert bytes.fromhex(first["root"]) == merkle.root_of(hashes[: first["tree_size"]])
    assert bytes.fromhex(second["root"]) == merkle.root_of(hashes)
    assert merkle.fold([bytes.fromhex(h) for h in second["frontier"]]) == merkle.root_of(hashes)
    # Rebuilt from the first link (`--full`), the tree is the same and passes the first's root.
    assert make_checkpoint(ledger_settings, full=True)["root"] == second["root"]
    with open_chain_reader(ledger_settings, table) as reader:
        tree = StoredTree(reader, second["tree_size"])
        assert len(tree.blocks) == 3 and tree.root() == bytes.fromhex(second["root"])
        for nid in (links[0].id, links[BLOCK - 1].id, links[BLOCK].id, links[-1].id):
            index, link = tree.leaf_index(nid) or (-1, None)
            assert link is not None
            proven = merkle.root_from_inclusion(
                merkle.leaf_hash(link.hash), index, tree.size, tree.inclusion_proof(index)
            )
            assert proven.hex() == second["root"]
        proof = merkle.consistency_proof(first["tree_size"], tree.size, tree.subtree)
        merkle.verify_consistency(
            first["tree_size"],
            tree.size,
            bytes.fromhex(first["root"]),
            bytes.fromhex(second["root"]),
            proof,
        )
    assert verify_checkpoint(ledger_settings, second, full=False).ok


def test_a_forged_frontier_or_a_rewritten_past_is_refused(
    ledger_settings: Settings,  # noqa: F811
) -> None:
    app = _open_app(ledger_settings)
    try:
        _record(app, 40)
        first = make_checkpoint(ledger_settings)
        save_checkpoint(ledger_settings, first)
        _record(app, 5)
    finally:
        app.close()
    path = ledger_settings.data_dir / "checkpoints" / f"checkpoint-{first['last_id']:012d}.json"
    kept = json.loads(path.read_text())
    path.write_text(json.dumps({**kept, "frontier": [bytes(32).hex()] * len(kept["frontier"])}))
    with pytest.raises(CheckpointError, match="does not fold to its signed root"):
        make_checkpoint(ledger_settings)
    # Re-signed with a root that is not the links' (the key holder lying about the past):
    # rebuilding the tree from the links refuses to extend it.
    key = load_or_create_signing_key(ledger_settings)
    lie = {k: v for k, v in kept.items() if k not in ("signature", "frontier")}
    lie["root"] = hashlib.sha256(b"another past").hexdigest()
    lie["signature"] = sign(lie, key)
    path.write_text(json.dumps(lie))
    with pytest.raises(CheckpointError, match="no longer has its signed root at size 40"):
        make_checkpoint(ledger_settings, full=True)


def test_missing_block_roots_are_named_with_the_cure(
    ledger_settings: Settings,  # noqa: F811
) -> None:
    app = _open_app(ledger_settings)
    try:
        _record(app, BLOCK + 1)
        checkpoint = make_checkpoint(ledger_settings)
    finally:
        app.close()
    raw = RawDB(ledger_settings)
    try:
        schema = f'"{ledger_settings.postgres_schema}".' if raw.pg else ""
        raw.run(f"DELETE FROM {schema}{BLOCKS_TABLE}")
    finally:
        raw.close()
    with (
        open_chain_reader(ledger_settings, checkpoint["events_table"]) as reader,
        pytest.raises(TreeError, match="lfr audit checkpoint --full"),
    ):
        StoredTree(reader, checkpoint["tree_size"])


def test_old_checkpoints_without_a_root_still_verify(
    ledger_settings: Settings,  # noqa: F811
) -> None:
    app = _open_app(ledger_settings)
    try:
        _record(app, 7)
    finally:
        app.close()
    table = make_checkpoint(ledger_settings)["events_table"]
    head = _links(ledger_settings, table)[-1]
    key = load_or_create_signing_key(ledger_settings)
    for version, extra in ((1, {}), (2, {"previous": None})):
        old = {
            "type": "lfr-ledger/checkpoint",
            "version": version,
            "events_table": table,
            "last_id": head.id,
            "head": head.hash.hex(),
            "events": 7,
            "created_at": "2025-01-01T00:00:00+00:00",
            "key_id": key_id(key.public_key()),
            **extra,
        }
        old["signature"] = sign(old, key)
        assert check_signature(old, key.public_key()) is None and tree_of(old) is None
        assert verify_checkpoint(ledger_settings, old).ok
        assert verify_checkpoint(ledger_settings, old, full=False).ok
    # A version 3 checkpoint without its tree is malformed, not an old one.
    bad = {**old, "version": 3, "tree_size": 7, "root": "zz"}
    bad["signature"] = sign(bad, key)
    assert check_signature(bad, key.public_key()) == "malformed tree_size or root"
