"""The Merkle tree (`merkle.py`) over one stored log: grown from the chain's links when a
checkpoint is signed, its block roots kept in `merkle_blocks` (migration 011, both backends),
and any subtree of it hashed from those roots plus one block's links.

The block roots are derived data, never trusted on their own: every use ends in a root compared
with a signed one (an inclusion proof, a consistency proof a witness checks, the root at a
checkpoint's size), so a block row that was edited makes the check fail, it cannot make it pass.
"""

from __future__ import annotations

import bisect
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg.sql import SQL, Identifier

from lfr_ledger.eventlog.chain.hashing import MIN_ID
from lfr_ledger.eventlog.chain.readers import ChainReader, LinkRow
from lfr_ledger.eventlog.merkle import (
    BLOCK,
    Frontier,
    ProofError,
    inclusion_proof,
    leaf_hash,
    subtree_hash,
)

BLOCKS_TABLE = "merkle_blocks"
_MIGRATION = "011_merkle_blocks.sql"
_PAGE = 10_000
_NO_LIMIT = 2**62


class TreeError(Exception):
    """The stored tree cannot answer (block roots missing or out of order)."""


@dataclass(frozen=True)
class Block:
    index: int
    last_id: int  # notification id of the block's last leaf
    root: bytes


class BlockTable:
    """`merkle_blocks` rows of one events table, through the chain reader's own datastore.

    The table is a read-model migration; it is created here too (the same file, idempotent) so
    that `lfr audit checkpoint` works on a store whose read models were never opened."""

    def __init__(self, reader: ChainReader) -> None:
        self.reader = reader
        self.events_table = reader.events_table
        self._ready = False

    def _ddl(self, backend: str) -> str:
        return (
            resources.files("lfr_ledger.migrations")
            .joinpath(backend, _MIGRATION)
            .read_text(encoding="utf-8")
        )

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._ensure()
        return self._run(statement, [params], write=False)

    def _ensure(self) -> None:
        if not self._ready:
            self._run(self._ddl(self._backend()), [()], write=True)
            self._ready = True

    def _backend(self) -> str:
        datastore = getattr(self.reader, "datastore", None)
        if isinstance(datastore, SQLiteDatastore):
            return "sqlite"
        if isinstance(datastore, PostgresDatastore):
            return "postgres"
        raise TreeError("the Merkle tree is kept on SQLite or PostgreSQL")

    def _run(
        self, statement: str, many: Sequence[Sequence[Any]], *, write: bool
    ) -> list[tuple[Any, ...]]:
        """`statement` once per parameter row of `many`, in one transaction."""
        datastore: Any = getattr(self.reader, "datastore", None)
        rows: list[Any] = []
        if isinstance(datastore, SQLiteDatastore):
            with datastore.transaction(commit=write) as c:
                for params in many:
                    c.execute(statement.replace("%s", "?"), tuple(params))
                if not write:
                    rows = c.fetchall()
        else:
            with datastore.get_connection() as conn, conn.transaction(), conn.cursor() as c:
                c.execute(SQL("SET LOCAL search_path TO {}").format(Identifier(datastore.schema)))
                if write and len(many) > 1:
                    c.executemany(statement.encode(), [tuple(p) for p in many])
                else:
                    c.execute(statement.encode(), tuple(many[0]) or None)
                if not write:
                    rows = c.fetchall()
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in rows]

    def read(self, below: int) -> list[Block]:
        """Blocks 0 … `below` - 1, in order; TreeError if any is missing."""
        if below <= 0:
            return []
        rows = self._execute(
            f"SELECT block, last_id, root FROM {BLOCKS_TABLE} "
            "WHERE events_table = %s AND block < %s ORDER BY block",
            (self.events_table, below),
        )
        blocks = [Block(int(r[0]), int(r[1]), bytes(r[2])) for r in rows]
        if len(blocks) != below or any(b.index != i for i, b in enumerate(blocks)):
            raise TreeError(
                f"the tree's block roots are missing ({len(blocks)} of {below} kept): run "
                "`lfr audit checkpoint --full` to rebuild them from the links"
            )
        return blocks

    def write(self, blocks: Sequence[Block]) -> None:
        """Keeps `blocks` (a rebuild overwrites: the links decide, the table follows)."""
        if not blocks:
            return
        self._ensure()
        self._run(
            f"INSERT INTO {BLOCKS_TABLE} (events_table, block, last_id, root) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (events_table, block) "
            "DO UPDATE SET last_id = excluded.last_id, root = excluded.root",
            [(self.events_table, b.index, b.last_id, b.root) for b in blocks],
            write=True,
        )


def links_after(reader: ChainReader, after: int, through: int) -> Iterator[LinkRow]:
    """The stored links with ids in (after, through], in id order, a page at a time."""
    while True:
        page = reader.links(after, through, _PAGE)
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1].id


def grow(
    reader: ChainReader,
    tree: Frontier,
    after_id: int,
    through_id: int,
    *,
    check: tuple[int, bytes] | None = None,
) -> tuple[list[Block], bool]:
    """Appends the links after `after_id` through `through_id` to `tree`; returns the blocks it
    completed and, with `check=(size, root)`, whether the tree had that root at that size."""
    blocks: list[Block] = []
    matched = check is None or (check[0] == tree.size and tree.root() == check[1])
    for link in links_after(reader, after_id if after_id > 0 else MIN_ID, through_id):
        tree.append(link.hash)
        if tree.size % BLOCK == 0:
            index, root = tree.take_blocks()[-1]
            blocks.append(Block(index, link.id, root))
        if check is not None and tree.size == check[0]:
            matched = tree.root() == check[1]
    return blocks, matched


class StoredTree:
    """The tree of the first `size` leaves of a stored log, for proofs: full blocks from the
    block table, the leaves of the block a range falls in from the links. Subtree hashes of a
    block or more are memoised, so the second proof against one checkpoint costs one block."""

    def __init__(self, reader: ChainReader, size: int, *, blocks: Sequence[Block] | None = None):
        self.reader = reader
        self.size = size
        self.blocks = list(blocks) if blocks is not None else BlockTable(reader).read(size // BLOCK)
        self._last_ids = [b.last_id for b in self.blocks]
        self._memo: dict[tuple[int, int], bytes] = {}
        # What was read from the links (blocks by index) and hashed from them, until
        # `forget_leaves`.
        self._leaves: dict[int, list[LinkRow]] = {}
        self._fresh: dict[tuple[int, int], bytes] = {}
        self._held: int | None = None  # the block `each_block` is at

    def forget_leaves(self) -> None:
        """The next proof reads its block's links again (block roots stay remembered)."""
        self._leaves = {}
        self._fresh = {}

    def each_block(self, indices: Sequence[int]) -> Generator[int, None, None]:
        """Each of these blocks in turn, its links read for the proofs made before the next
        (the links of 64 blocks a query, `ChainReader.links_within`). One block's links are
        held at a time, beside at most one block read alone (`block_links`)."""
        ranges = [self._range(index) for index in indices]
        read = self.reader.links_within(ranges)
        try:
            for index, links in zip(indices, read, strict=True):
                # The block before is let go; one read alone (the tail, whose leaves the path
                # of a leaf in any block may need) is kept for the blocks after.
                if self._held is not None:
                    self._leaves.pop(self._held, None)
                self._fresh = {}
                self._leaves[index], self._held = links, index
                yield index
        finally:
            close = getattr(read, "close", None)
            if close is not None:
                close()
            self.forget_leaves()
            self._held = None

    def block_of(self, notification_id: int) -> int:
        """Which block holds the leaf of `notification_id` (len(blocks): the tail)."""
        return bisect.bisect_left(self._last_ids, notification_id)

    def block_links(self, index: int) -> list[LinkRow]:
        """The links of block `index` (or of the tail, the leaves after the last full block)."""
        found = self._leaves.get(index)
        if found is None:
            # Read alone (a proof's subtree in another block, or no `each_block`): kept beside
            # the block `each_block` is at, in place of any other read alone.
            self._leaves = {i: k for i, k in self._leaves.items() if i == self._held}
            self._fresh = {}
            found = self._leaves[index] = self.reader.links(*self._range(index))
        return found

    def _range(self, index: int) -> tuple[int, int, int]:
        """Where block `index`'s links lie: (after, stop, how many)."""
        after = self._last_ids[index - 1] if index > 0 else MIN_ID
        if index < len(self.blocks):
            return after, self._last_ids[index], BLOCK
        return after, _NO_LIMIT, self.size - len(self.blocks) * BLOCK

    def _leaf_hashes(self, start: int, end: int) -> list[bytes]:
        index = start // BLOCK
        links = self.block_links(index)
        offset = index * BLOCK
        if len(links) < end - offset:
            raise ProofError(f"block {index} holds {len(links)} leaves, the tree says more")
        return [leaf_hash(k.hash) for k in links[start - offset : end - offset]]

    def subtree(self, start: int, end: int) -> bytes:
        # A block or more: from block roots, kept. Less: from the links just read.
        memo = self._memo if end - start >= BLOCK else self._fresh
        key = (start, end)
        found = memo.get(key)
        if found is None:
            found = subtree_hash(start, end, self._block_root, self._leaf_hashes)
            memo[key] = found
        return found

    def _block_root(self, index: int) -> bytes:
        return self.blocks[index].root

    def root(self) -> bytes:
        return self.subtree(0, self.size)

    def leaf_index(self, notification_id: int) -> tuple[int, LinkRow] | None:
        """The leaf index and stored link of `notification_id`, if the tree holds it."""
        index = self.block_of(notification_id)
        links = self.block_links(index)
        position = bisect.bisect_left([k.id for k in links], notification_id)
        if position == len(links) or links[position].id != notification_id:
            return None
        return index * BLOCK + position, links[position]

    def inclusion_proof(self, leaf_index: int) -> list[bytes]:
        return inclusion_proof(leaf_index, self.size, self.subtree)
