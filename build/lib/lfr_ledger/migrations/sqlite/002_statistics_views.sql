-- Read models for statistics and publication. Only fields that identify no one are copied
-- from the events: no names, subject references, sealed fields, reasons, offences, custody
-- references or actor ids. Times are ISO 8601 in UTC; days are UTC dates.

CREATE TABLE IF NOT EXISTS view_operations (
    operation_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    force TEXT NOT NULL,
    purpose TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
);

CREATE TABLE IF NOT EXISTS view_deployments (
    deployment_id TEXT PRIMARY KEY,
    operation_id TEXT NOT NULL,
    location_name TEXT NOT NULL,
    town TEXT NOT NULL,
    location_type TEXT NOT NULL,
    purpose TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    model_id TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    threshold REAL NOT NULL,
    threshold_changes INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    proposed_at TEXT NOT NULL,
    authorised_at TEXT,
    urgent INTEGER NOT NULL DEFAULT 0,
    refused_at TEXT,
    reviewed_entry_count INTEGER,
    started_at TEXT,
    ended_at TEXT,
    watchlist_destroyed_at TEXT,
    post_review_at TEXT
);

CREATE TABLE IF NOT EXISTS view_deployment_cameras (
    deployment_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    camera_name TEXT NOT NULL,
    PRIMARY KEY (deployment_id, camera_id)
);

-- One row per enrolment: category and status only. counted_in_size is 0 for an entry
-- withdrawn before its deployment started, which was never part of the live watchlist.
CREATE TABLE IF NOT EXISTS view_watchlist_entries (
    entry_id TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    withdrawn_at TEXT,
    counted_in_size INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS view_face_counts (
    report_id TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    day TEXT NOT NULL,
    faces INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS view_alerts (
    alert_id TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    category TEXT NOT NULL,
    similarity REAL NOT NULL,
    threshold REAL NOT NULL,
    model_id TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    day TEXT NOT NULL,
    decision TEXT,
    adjudicated_at TEXT,
    adjudication_ms INTEGER,
    engaged INTEGER,
    confirmed TEXT,
    arrests INTEGER NOT NULL DEFAULT 0,
    compliance_complied INTEGER NOT NULL DEFAULT 0,
    compliance_breach INTEGER NOT NULL DEFAULT 0,
    other_outcomes INTEGER NOT NULL DEFAULT 0,
    closed_at TEXT
);
