-- Summaries read a deployment's or an operation's rows at a time.
CREATE INDEX IF NOT EXISTS view_deployments_operation ON view_deployments (operation_id);
CREATE INDEX IF NOT EXISTS view_watchlist_entries_deployment
    ON view_watchlist_entries (deployment_id);
CREATE INDEX IF NOT EXISTS view_face_counts_deployment ON view_face_counts (deployment_id);
CREATE INDEX IF NOT EXISTS view_alerts_deployment ON view_alerts (deployment_id, raised_at);
