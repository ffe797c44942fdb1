"""Offline tooling for model packs, run at set-up or by hand and never by the live pipeline:
fetching and converting the sface pack, building and gating its int8 variant, and the sample
faces the demo and the tests use."""
