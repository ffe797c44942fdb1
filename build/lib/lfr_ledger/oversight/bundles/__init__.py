"""Oversight bundles: a signed, self-verifying export of the event log, checked offline.

A bundle is a directory:

- `events.jsonl` — the exported events in log order, one per line: notification `id`, `topic`,
  `originator_id`, `originator_version`, `state` (the stored bytes exactly, as UTF-8 text; or
  `state_b64` when they are not text), and the event's chain link `prev_hash` / `hash`. Sealed
  personal fields stay sealed: the bundle holds ciphertext, never keys.
- `chain.jsonl` — the whole chain up to the checkpoint, one link per line, for every event of the
  log (exported or not): `id`, `prev_id`, `topic`, `originator_id`, `originator_version`,
  `state_sha256` and `hash`. No content: the digest of the state stands for it. This is what lets
  a per-deployment bundle be verified alone: the chain is over the whole log, so each link is
  recomputed from genesis (h_n = SHA-256(h_{n-1} ‖ id ‖ topic ‖ originator ‖ version ‖
  SHA-256(state))) and must end at the signed head; each exported event's content must hash to
  its link's digest.
- `checkpoint.json` — an Ed25519-signed (last id, head) of the log, made when the bundle was
  (`eventlog/checkpoint.py`, the same format `lfr audit checkpoint` writes).
- `public_key.pem` — the checkpoint key. Verify with a key obtained independently
  (`lfr audit public-key`, kept outside the system); the bundled copy proves only consistency.
- `manifest.json` — scope, who exported it to whom, the exported ids, the SHA-256 of every
  other file, signed with the same key.

`verify.verify_bundle` needs no database. It names the first tampered record: a line altered,
removed, inserted or moved in either file, a file changed, or a signature that fails. Every
export is itself logged as a disclosure (recipient, what) before the checkpoint is made, so the
bundle's own chain contains the record of its disclosure (`write.export_bundle`).
"""
