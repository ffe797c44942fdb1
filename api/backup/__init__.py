"""`lfr backup` and `lfr restore` (issue 27): a consistent copy of the ledger, its restore, and
the re-application of every erasure made since the copy (the tombstone journal)."""
