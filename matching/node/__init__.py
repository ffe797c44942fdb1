"""A matcher node's wiring: the one place a matcher is assembled (`assembly`: the ledger in
process or over HTTP), where claims go (`sinks`), what it reads (`live_terms`, and `remote` for
a node without the database), and when runners run (`schedule`, `service`)."""
