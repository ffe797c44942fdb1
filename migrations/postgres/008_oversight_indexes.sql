-- Oversight's indexes (issue 15): subject access and retention read these instead of scanning
-- the log. Both are projections (`subject_index`, `retention_deadlines`), rebuilt from the log.
--
-- Per subject, the entries enrolled for them and the alerts raised against those entries. The
-- subject is a hash of the vault's keyed digest (never the reference, never the digest itself).
CREATE TABLE IF NOT EXISTS view_subject_entries (
    entry_id TEXT PRIMARY KEY,
    subject_key TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    alert_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS view_subject_entries_by_subject ON view_subject_entries (subject_key);

CREATE TABLE IF NOT EXISTS view_subject_alerts (
    alert_id TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS view_subject_alerts_by_entry ON view_subject_alerts (entry_id, seq);

-- Retention's anchors: when each period starts (fixed-width UTC text, so order is time order)
-- and whether the record is destroyed or held. Deadlines are anchor + the period of the policy
-- in force, computed when retention runs.
CREATE TABLE IF NOT EXISTS view_retention_watchlists (
    deployment_id TEXT PRIMARY KEY,
    authorised INTEGER NOT NULL DEFAULT 0,
    window_ends_at TEXT NOT NULL,
    finished_at TEXT,
    destroyed_at TEXT
);
CREATE INDEX IF NOT EXISTS view_retention_watchlists_kept
    ON view_retention_watchlists (destroyed_at, finished_at);
CREATE INDEX IF NOT EXISTS view_retention_watchlists_open
    ON view_retention_watchlists (finished_at, window_ends_at);

CREATE TABLE IF NOT EXISTS view_retention_alert_images (
    alert_id TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    held INTEGER NOT NULL DEFAULT 0,
    erased_at TEXT
);
CREATE INDEX IF NOT EXISTS view_retention_alert_images_kept
    ON view_retention_alert_images (erased_at, captured_at);

CREATE TABLE IF NOT EXISTS view_retention_access_records (
    record_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    sealed INTEGER NOT NULL,
    destroyed_at TEXT
);
CREATE INDEX IF NOT EXISTS view_retention_access_records_kept
    ON view_retention_access_records (destroyed_at, occurred_at);
