"""The retention engine: destroys what the policy says may no longer be kept. What is due and
when is `plan.py`; destroying it and the report of a run, `destruction.py` and `report.py`;
the jobs armed at each due time, `schedule.py`.

Two rules, both with periods from the policy file (`[retention]`):

- `watchlist_hours_after_end`: a deployment's watchlist is destroyed that many hours after the
  deployment ended (or was refused). Every entry's key is shredded, a `WatchlistDestroyed`
  manifest and one `Destroyed` event per entry are written (metadata only: what, which rule,
  when), and the watchlist index drops the entries' vectors at once, through the hook the
  composition root hands in (`after_destruction`).
- `alert_image_days`: an alert's face crop is erased that many days after it was captured,
  unless the alert is under legal hold; a hold released later makes it due at once.
- `access_log_years`: the access and disclosure logs' own retention. That many years after a
  consultation, its stated purpose's key is shredded; after a disclosure, the key of its
  recipient and record text. A `PurposeDestroyed` / `ContentDestroyed` event (rule, who, when)
  is written first; the record that the access happened stays. Disclosures recorded before
  sealing hold their text in clear and are reported, never claimed as destroyed.

Destruction is decided from the event log alone, so a run is idempotent: what was destroyed is
recorded, and a second run finds nothing due. A crash between recording an erasure and shredding
its key leaves the key behind; the next run shreds it (the record always comes first).

Time is the ledger's clock (`as_of` overrides it for a dry look at another moment), so tests and
`lfr retention run --as-of` say what time it is.

What is due is selected from a deadline index the composition root hands in (`DeadlineIndex`:
the `retention_deadlines` projection, caught up to the log's head at the start of each run). It
keeps each period's anchor (end or refusal, capture, access), never the deadline: the periods
are the policy's in force at the run, so adopting a policy version needs no re-indexing. The
keys a crashed run left are looked for among destructions written in the last
`LEFTOVER_LOOKBACK` (the sweep runs every 15 minutes); without an index (`lfr retention run
--scan`) the whole log is read, as before, and every leftover of any age is found.
"""
