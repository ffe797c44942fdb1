"""The index file's tables. Kept here, not in `migrations/`: `vec0` tables are created per
embedding dimension as deployments with new models arrive."""

SCHEMA_VERSION = 1

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS index_tracking ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL)",
    "INSERT INTO index_tracking (id, position) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    "CREATE TABLE IF NOT EXISTS deployments ("
    " deployment_id TEXT PRIMARY KEY, model_id TEXT NOT NULL, epoch TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS models (model_id TEXT PRIMARY KEY, dimension INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries ("
    " entry_id TEXT PRIMARY KEY, deployment_id TEXT NOT NULL, dimension INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS entries_by_deployment ON entries (deployment_id)",
    # Every vector added or removed, in order: how processes holding an in-memory copy of a
    # deployment's vectors catch up without reloading them all.
    "CREATE TABLE IF NOT EXISTS changes ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, deployment_id TEXT NOT NULL,"
    " entry_id TEXT NOT NULL, added INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS changes_by_deployment ON changes (deployment_id, seq)",
    # Entries whose template the index could not take: they would never match, so say so.
    "CREATE TABLE IF NOT EXISTS refused_entries ("
    " entry_id TEXT PRIMARY KEY, deployment_id TEXT NOT NULL, reason TEXT NOT NULL)",
)
