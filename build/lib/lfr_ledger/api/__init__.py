"""The edge of lfr-ledger: HTTP app, CLI, settings and wiring."""
