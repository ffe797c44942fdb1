"""Witnessed checkpoints: each signed checkpoint sent to witnesses that oversight bodies run
themselves (`lfr witness serve`), each of which keeps it append-only, countersigns it, and
refuses one whose tree does not extend what it already holds.

An insider holding the database and the ledger's signing key can rewrite the past and re-sign
every checkpoint kept here; what a witness holds they cannot reach. `lfr audit verify --witness
URL` recomputes the tree's root from today's links at every size a witness countersigned and
names the first checkpoint that no longer matches.

`protocol` is what both sides agree on (the countersignature, the consistency rule, the wire
shapes), `client` the ledger's side (sending, retried until acknowledged), `compare` the check
against a witness. The witness service itself is an HTTP app, in `api/witness.py`.
"""
