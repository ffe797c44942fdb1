-- Issue 23: the rolling re-verification (`eventlog/rolling.py`), one row per chained events
-- table. Not an event (a slice every minute would bury the log): where the pass under way
-- stands, the last pass that finished and what it found, overwritten by each slice in one
-- statement. Ids, times, hashes and the verifier's own words only: nothing here names anyone.
CREATE TABLE IF NOT EXISTS audit_rolling_reverification (
    events_table TEXT PRIMARY KEY,
    -- the pass under way: ids covered through `covered`, the last event re-hashed
    -- `anchor_id`, the head recomputed at it (hex)
    started_at TEXT NOT NULL,
    covered BIGINT NOT NULL,
    anchor_id BIGINT NOT NULL,
    head TEXT NOT NULL,
    events BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    rehashed_total BIGINT NOT NULL,
    -- the last pass that finished: at the head, or at the first bad row it met
    finished_started_at TEXT,
    finished_at TEXT,
    finished_last_id BIGINT,
    finished_events BIGINT,
    first_bad_id BIGINT,
    reason TEXT,
    detail TEXT,
    -- the last pass that reached the head and found nothing
    intact_at TEXT,
    intact_last_id BIGINT
);
