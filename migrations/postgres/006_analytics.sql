-- Analytics a force publishes (issue 11): hours of operation, mutual aid, blue walk-pasts.
--
-- One row per deployment: the forces (mutual aid when the equipment owner differs from the
-- controlling force) and the time it was live: `live_ms` is the sum of its closed live intervals
-- (started or resumed, to paused or ended); `live_since` is when the open one began.
CREATE TABLE IF NOT EXISTS view_deployment_operation (
    deployment_id TEXT PRIMARY KEY,
    controlling_force TEXT NOT NULL,
    equipment_owner_force TEXT NOT NULL,
    mutual_aid INTEGER NOT NULL DEFAULT 0,
    live_ms BIGINT NOT NULL DEFAULT 0,
    live_since TEXT
);

-- One row per blue walk-past: a consenting officer on a "blue" (test subject) entry walked past
-- a camera, so the true-positive identification rate can be measured. The entry id is an
-- opaque key, as in view_alerts; nothing about the officer is kept.
CREATE TABLE IF NOT EXISTS view_blue_walk_pasts (
    deployment_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    entry_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    walked_at TEXT NOT NULL,
    PRIMARY KEY (deployment_id, version)
);
