"""The tamper-evident hash chain over the event log.

Every stored event gets a row in `<events table>_chain`: (notification_id, prev_id, hash), where
`hash = chain_hash(hash of prev_id, notification_id, topic, originator, version, state)` and
`prev_id` is the notification id the row was chained onto (0 for the first). The row is written
by the recorders (`recorders.py`) in the same database transaction as the event, so an event can
never be durable without its link. `prev_id` is not needed to recompute the chain; it is kept so
that the verifier (`verify.py`) can tell a deletion from an insertion and name the id involved.

The chain hashes the stored (possibly encrypted) bytes, so crypto-shredding never breaks it.
`hashing.py` computes links, `readers.py` is the verifier's view of each backend, `wiring.py`
opens them from settings.
"""
