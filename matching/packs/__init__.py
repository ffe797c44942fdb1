"""Offline tooling for model packs, run at set-up or by hand and never by the live pipeline:
fetching (`fetch`) and converting (`conversion`) the sface pack, building its int8 variant
(`quantise`) behind its drift gate (`drift_gate`), and the sample faces the demo and the tests
use (`samples`)."""
