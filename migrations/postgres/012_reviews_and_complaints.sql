-- Post-deployment reviews and complaints (issue 24), for the period report. Nothing here names
-- a person: a review's parts are kept in clear because they name no one; a complaint's summary
-- and outcome are sealed in the log and never reach a view.
--
-- One row per reviewed deployment: whether its objectives were met (met, partly_met, not_met;
-- NULL for a review recorded before issue 24, which held only its findings), its lessons, and
-- how many complaints the review counted from their records.
CREATE TABLE IF NOT EXISTS view_deployment_reviews (
    deployment_id TEXT PRIMARY KEY,
    reviewed_at TEXT NOT NULL,
    objectives_met TEXT,
    lessons TEXT NOT NULL DEFAULT '',
    complaints_counted INTEGER NOT NULL DEFAULT 0
);

-- One row per complaint: its deployment, the alert it cites (if any), when it was received,
-- by which channel, and when it was resolved (NULL while open).
CREATE TABLE IF NOT EXISTS view_complaints (
    complaint_id TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    alert_id TEXT,
    received_on TEXT NOT NULL,
    channel TEXT NOT NULL,
    resolved_on TEXT
);
CREATE INDEX IF NOT EXISTS view_complaints_deployment ON view_complaints (deployment_id);
