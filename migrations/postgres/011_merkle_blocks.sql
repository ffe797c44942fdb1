-- Issue 23: the Merkle tree over the hash chain (`eventlog/merkle.py`, `eventlog/tree.py`). One
-- row per full block of 1,024 leaves (leaf i is the chain link of the i-th event): the block's
-- subtree root and the notification id of its last leaf, written when a checkpoint is signed.
-- Derived from the links and checked against a checkpoint's signed root before it is trusted:
-- an inclusion check reads one block's links and a path over these roots. Hashes and ids only.
CREATE TABLE IF NOT EXISTS merkle_blocks (
    events_table TEXT NOT NULL,
    block BIGINT NOT NULL,
    last_id BIGINT NOT NULL,
    root BYTEA NOT NULL,
    PRIMARY KEY (events_table, block)
);
