-- What a camera's video source did (issue 14): the latest heartbeat also says how many frames
-- the source offered and the matcher processed, and when the source was lost (its gaps, as a
-- JSON array of {"started_at", "ended_at"}; ended_at null while still lost). Counts and times
-- only. A heartbeat from a matcher that predates them keeps the defaults.
ALTER TABLE camera_heartbeats ADD COLUMN frames_offered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE camera_heartbeats ADD COLUMN frames_processed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE camera_heartbeats ADD COLUMN source_gaps TEXT NOT NULL DEFAULT '[]';
