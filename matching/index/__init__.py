"""The watchlist index: each deployment's active, templated watchlist entries, ready for k-NN.

A projection of the event log into a local SQLite file (`data_dir/index/watchlist.sqlite`, one
per matcher node, also when the ledger itself is on PostgreSQL). Vectors live in sqlite-vec
`vec0` tables (`distance_metric=cosine`, the deployment as partition key, one table per
embedding dimension), so cosine distance = 1 − similarity. `follower.WatchlistIndex.sync`
follows the notification log from the index's own tracking position, written in the same
transaction as the rows it moved: an entry withdrawn or destroyed leaves the index on the next
sync, and a crash mid-batch leaves nothing half-applied.

Searches are exact (brute force). vec0 0.1.9 scans a 10,000-entry partition in a few ms, which
is about the whole per-face budget, so by default the index also keeps each deployment's
vectors as one in-process matrix, read from the vec0 table and kept current through a change
log written in the same transaction as the rows: before each search one indexed look-up says
whether any process changed the deployment since, and only those changes are read. Both paths
give the same candidates; `in_memory=False` queries vec0 directly.

Removed vectors do not linger on disk: vec0 zeroes a deleted vector's slot, `secure_delete`
zeroes freed pages, and the WAL is checkpointed and truncated after every removal.

The modules, from the bottom up: `vectors` (what a vector must be, the file's place, the
errors), `schema` (the file's tables), `memory` (the in-process copy and its ranking), `store`
(vec0 tables, writes and search), `follower` (the store kept in step with the log). Import
from them directly; this package re-exports nothing.
"""

from __future__ import annotations
