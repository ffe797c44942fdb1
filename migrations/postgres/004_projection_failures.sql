-- Events a view could not take. The runner records them here and carries on with every other
-- event and view; a rebuild (after a fix) replays them. Only the exception's type and where it
-- was raised are kept: never a value from the event.
CREATE TABLE IF NOT EXISTS projection_failures (
    name TEXT NOT NULL,
    notification_id BIGINT NOT NULL,
    topic TEXT NOT NULL,
    error TEXT NOT NULL,
    PRIMARY KEY (name, notification_id)
);
