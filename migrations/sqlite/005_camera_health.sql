-- Camera and matcher health (issue 11).
--
-- Heartbeats are not events (one per camera every 30 s would bury the log): the latest one per
-- camera is kept here, overwritten by the next, never replayed. Counts and times only; the error
-- text is cleaned before it is kept (one line, credentials in URLs masked, 200 characters).
CREATE TABLE IF NOT EXISTS camera_heartbeats (
    deployment_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    frames_per_second DOUBLE PRECISION NOT NULL,
    faces_seen INTEGER NOT NULL,
    frames_dropped INTEGER NOT NULL,
    interval_seconds DOUBLE PRECISION NOT NULL,
    last_error TEXT,
    PRIMARY KEY (deployment_id, camera_id)
);

-- When each camera was silent: one row per Deployment.CameraWentSilent, its end set by the
-- camera's CameraReporting (a silence still open when the deployment ended ends with it).
CREATE TABLE IF NOT EXISTS view_camera_silences (
    deployment_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    silent_since TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    reporting_at TEXT,
    PRIMARY KEY (deployment_id, camera_id, silent_since)
);
