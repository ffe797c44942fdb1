-- Issue 24 (outcomes, engagement and false-alert factors): each alert's new outcomes counted
-- by kind (charges, bails, voluntary attendances, safeguarding), how long its engagement
-- lasted (engaged_from..engaged_until, in ms) and why it was false: the false-alert factors
-- the operator named with a no_match, and those the officer named when an engagement did not
-- confirm the identity (codes from the policy's closed list, comma-separated). Events
-- recorded before carry none of these, so no row needs replaying.
ALTER TABLE view_alerts ADD COLUMN charges INTEGER NOT NULL DEFAULT 0;
ALTER TABLE view_alerts ADD COLUMN bails INTEGER NOT NULL DEFAULT 0;
ALTER TABLE view_alerts ADD COLUMN voluntary_attendances INTEGER NOT NULL DEFAULT 0;
ALTER TABLE view_alerts ADD COLUMN safeguarding INTEGER NOT NULL DEFAULT 0;
ALTER TABLE view_alerts ADD COLUMN engagement_ms BIGINT;
ALTER TABLE view_alerts ADD COLUMN false_alert_factors TEXT;
ALTER TABLE view_alerts ADD COLUMN confirmed_false_factors TEXT;
