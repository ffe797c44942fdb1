-- Where each read model has got to in the notification log. A view's rows and its row here
-- change in one transaction, so an event is applied exactly once.
CREATE TABLE IF NOT EXISTS projection_tracking (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL DEFAULT 0
);
