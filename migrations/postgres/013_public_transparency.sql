-- The public page (issue 24): one row per deployment, with what its public notice said (how and
-- when it was given, or that an exemption was recorded: never the exemption's reason), the
-- watchlist categories it was planned for (policy codes, space-separated), and when its results
-- were published for the public or recorded overdue by the ledger's deadline check.
CREATE TABLE IF NOT EXISTS view_public_deployments (
    deployment_id TEXT PRIMARY KEY,
    watchlist_categories TEXT NOT NULL,
    notice_method TEXT NOT NULL,
    notice_issued_at TEXT,
    notice_exempt INTEGER NOT NULL DEFAULT 0,
    results_published_at TEXT,
    publication_overdue_at TEXT
);
