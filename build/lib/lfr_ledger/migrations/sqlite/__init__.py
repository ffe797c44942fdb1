"""SQLite migrations, applied in number order by `projections.schema.migrate`."""
