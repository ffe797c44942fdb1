"""The Merkle tree over the hash chain, as RFC 9162 (Certificate Transparency 2.0) defines it.

Its leaves are the chain's links in log order (leaf `i` is the link of the `i`-th event, not of
notification id `i`: ids may have gaps). Hashing is RFC 9162's: a leaf is SHA-256(0x00 ‖ link),
a node SHA-256(0x01 ‖ left ‖ right), and a tree of `n` leaves splits at the largest power of two
below `n`, so the root of any size is defined and a signed root commits to every link before it.

What is kept between checkpoints is the tree's frontier: the roots of the complete subtrees that
the binary digits of the size describe, largest first (at most 64 of them). The root is their
fold from the right, and appending a leaf merges equal neighbours like a binary counter, so a
checkpoint's root costs only the leaves recorded since the previous one.

Leaves are grouped in blocks of `BLOCK` (aligned, so each full block is a node of every larger
tree): the ledger keeps each full block's root, and any subtree is then hashed from block roots
plus at most the leaves of one block (`subtree_hash`). Proofs (inclusion, consistency) and their
verification follow RFC 9162 §2.1.3 and §2.1.4 to the letter. Pure functions: no database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_LEN = 32
# Leaves per block: an inclusion check reads one block's links and a path over block roots.
BLOCK = 1024
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof does not verify, or cannot be made for the sizes asked."""


def leaf_hash(link: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + link).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than `n` (n ≥ 2): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def frontier_sizes(size: int) -> list[int]:
    """The sizes of the frontier's subtrees for a tree of `size` leaves, largest first."""
    return [1 << bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1]


def fold(frontier: Sequence[bytes]) -> bytes:
    """The root of the tree whose frontier this is (RFC 9162's MTH)."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for subtree in reversed(frontier[:-1]):
        root = node_hash(subtree, root)
    return root


class Frontier:
    """A tree being grown one leaf at a time: its size and its frontier."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != bin(size).count("1"):
            raise ProofError(f"a frontier of a tree of {size} leaves has {size.bit_count()} hashes")
        if any(len(h) != HASH_LEN for h in hashes):
            raise ProofError("a frontier's hashes are 32 bytes each")
        self.size = size
        self.hashes = list(hashes)
        # Roots of the blocks completed by `append` since the last `take_blocks`: (index, root).
        self._blocks: list[tuple[int, bytes]] = []

    def append(self, link: bytes) -> None:
        self.append_hash(leaf_hash(link))

    def append_hash(self, leaf: bytes) -> None:
        self.hashes.append(leaf)
        self.size += 1
        # The low zero bits of the new size count the merges: equal neighbours combine.
        merged, size = 1, self.size
        while size & 1 == 0:
            right = self.hashes.pop()
            self.hashes[-1] = node_hash(self.hashes[-1], right)
            merged <<= 1
            size >>= 1
            if merged == BLOCK:
                self._blocks.append((self.size // BLOCK - 1, self.hashes[-1]))

    def extend(self, links: Sequence[bytes]) -> None:
        for link in links:
            self.append(link)

    def root(self) -> bytes:
        return fold(self.hashes)

    def copy(self) -> Frontier:
        return Frontier(self.size, self.hashes)

    def take_blocks(self) -> list[tuple[int, bytes]]:
        """The full blocks completed since last asked (block index, its subtree root)."""
        taken, self._blocks = self._blocks, []
        return taken

    def to_hex(self) -> list[str]:
        return [h.hex() for h in self.hashes]

    @classmethod
    def from_hex(cls, size: int, hashes: Sequence[str]) -> Frontier:
        try:
            return cls(size, [bytes.fromhex(h) for h in hashes])
        except (ValueError, TypeError) as e:
            raise ProofError(f"malformed frontier: {e}") from e


def root_of(links: Sequence[bytes]) -> bytes:
    """The root of the tree over `links` (one tree, all in memory: tests and small ranges)."""
    tree = Frontier()
    tree.extend(links)
    return tree.root()


def leaves_root(leaves: Sequence[bytes]) -> bytes:
    """The root over already-hashed leaves (a block's, a tail's)."""
    tree = Frontier()
    for leaf in leaves:
        tree.append_hash(leaf)
    return tree.root()


# A subtree's hash by its leaf range [start, end): blocks come from `block_root(index)`, anything
# smaller from `leaves(start, end)` (the leaf hashes of a range inside one block).
BlockRoot = Callable[[int], bytes]
Leaves = Callable[[int, int], Sequence[bytes]]


def subtree_hash(start: int, end: int, block_root: BlockRoot, leaves: Leaves) -> bytes:
    """MTH(D[start:end]) for a range the RFC's recursion produces (start aligned to a power of
    two at least end - start): full blocks are looked up, the rest hashed from its leaves."""
    n = end - start
    if n <= 0:
        return EMPTY_ROOT
    if n == BLOCK and start % BLOCK == 0:
        return block_root(start // BLOCK)
    if n < BLOCK and start // BLOCK == (end - 1) // BLOCK:
        return leaves_root(leaves(start, end))
    k = split(n)
    return node_hash(
        subtree_hash(start, start + k, block_root, leaves),
        subtree_hash(start + k, end, block_root, leaves),
    )


Subtree = Callable[[int, int], bytes]


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), subtrees hashed by `subtree(start, end)`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()
    return path


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """The root that `path` proves leaf hash `leaf` at `index` of `size` leaves belongs to
    (RFC 9162 §2.1.3.2); compare it with a signed root."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof too short")
    return r


def consistency_proof(first: int, second: int, subtree: Subtree) -> list[bytes]:
    """PROOF(first, D[0:second]) (RFC 9162 §2.1.4.1): that the tree of `first` leaves is a
    prefix of the tree of `second` leaves. Empty when the sizes are equal or `first` is 0."""
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from {first} leaves to {second}")
    if first == 0 or first == second:
        return []
    proof: list[bytes] = []
    start, end, m, whole = 0, second, first, True
    while m != end - start:
        k = split(end - start)
        if m <= k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(subtree(start, end))
    proof.reverse()
    return proof


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raises ProofError unless `proof` shows the tree (`first`, `first_root`) is a prefix of
    (`second`, `second_root`) (RFC 9162 §2.1.4.2)."""
    if not 0 <= first <= second:
        raise ProofError(f"a tree of {second} leaves cannot extend one of {first}")
    if first == second:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if first_root != second_root:
            raise ProofError("the same size with two different roots")
        return
    if first == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is itself a node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof too short")
    if fr != first_root:
        raise ProofError("the proof does not lead to the earlier root")
    if sr != second_root:
        raise ProofError("the proof does not lead to the later root")
