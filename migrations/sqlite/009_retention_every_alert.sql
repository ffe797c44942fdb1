-- Issue 23, item 3: the `retention_deadlines` projection now holds every alert, not only those
-- raised with a face crop, so that the alert rule also erases the notes (adjudication reasons,
-- outcome notes) of an alert raised without one. Its rows are rebuilt from the log: emptied
-- here, and replayed from the first event at the next catch-up.
DELETE FROM view_retention_watchlists;
DELETE FROM view_retention_alert_images;
DELETE FROM view_retention_access_records;
DELETE FROM projection_failures WHERE name = 'retention_deadlines';
UPDATE projection_tracking SET position = 0 WHERE name = 'retention_deadlines';
