"""A matcher node's wiring: where claims go (`sinks`: in process or over HTTP), what it reads
(`live_terms`, and `remote` for a node without the database), when runners run (`schedule`)."""
