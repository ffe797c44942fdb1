// The integrity of the log, in plain words and with its scope: which events this check
// re-hashed, which the signed checkpoint and the rolling re-verification vouch for, and what
// was found. The numbers are GET /audit/verify's own; nothing is said that the reply does not
// say ("Verified: 13 events" once read as if only 13 of 470 had been checked).
import { api, el, label } from "./console.js";
import { number, plural, shortId, timeEl, when } from "./format.js";
import { facts, grid } from "./oversight-dom.js";

const range = (from, to) => (from === to ? `event ${number(from)}` : `events ${number(from)} to ${number(to)}`);

// The headline: one sentence, whose every number comes from the reply.
export function headline(v) {
  if (!v.ok) {
    const at = v.first_bad_id !== null && v.first_bad_id !== undefined ? ` at event ${number(v.first_bad_id)}` : "";
    return `NOT VERIFIED${at}: ${label(v.reason || "unknown")}. ${v.detail || ""}`.trim();
  }
  const cp = v.checkpoint;
  const signature = cp ? "chain and checkpoint signature intact" : "chain intact (no checkpoint signed yet)";
  const span = v.rehashed_from !== null && v.rehashed_from !== undefined;
  if (v.full) {
    // Re-hashed from the first event: the whole log, counted.
    if (!span) return "The log holds no event yet";
    return `The whole log verified: ${plural(v.events_checked, "event")}, from event ${number(v.rehashed_from)} to event ${number(v.rehashed_to)}, re-hashed just now; ${signature}`;
  }
  const since = v.since_id;
  const now = span
    ? `${range(v.rehashed_from, v.rehashed_to)} (${plural(v.events_checked, "event")}) re-hashed just now`
    : `no event recorded since the checkpoint at event ${number(since)}`;
  const r = v.rolling;
  const reached = r && r.last_intact_pass_to ? r.last_intact_pass_to : 0;
  const under = reached >= since
    ? `events 1 to ${number(since)}, under the checkpoint (signature valid), re-hashed by the rolling re-verification's last complete pass, finished ${when(r.last_intact_pass_at)}`
    : `events 1 to ${number(since)} not re-hashed by this check: the checkpoint signed at event ${number(since)} vouches for them (signature valid)` +
      (reached ? `; the last complete rolling pass re-hashed events 1 to ${number(reached)}` : "; no rolling pass has completed yet");
  return `Log intact up to event ${number(v.last_id)}: ${now}; ${under}`;
}

// What each part of the check covered, one line each.
function scope(v) {
  const cp = v.checkpoint;
  const pairs = [];
  const span = v.rehashed_from !== null && v.rehashed_from !== undefined;
  pairs.push([
    "This check",
    span
      ? `re-hashed ${range(v.rehashed_from, v.rehashed_to)} (${plural(v.events_checked, "event")})${v.full ? ", from the first event" : `, after the checkpoint at event ${number(v.since_id)}`}`
      : "re-hashed no event",
  ]);
  pairs.push([
    "Signed checkpoint",
    cp
      ? [
          `event ${number(cp.last_id)}, signed `, timeEl(cp.created_at), " by key ", shortId(cp.key_id), "; ",
          cp.signature_ok ? "signature valid" : "SIGNATURE INVALID", "; ",
          cp.extends ? "the log still passes through its head" : `the log no longer passes through its head${cp.reason ? ` (${cp.reason})` : ""}`,
        ]
      : "none signed yet (the server signs one a minute as the log grows)",
  ]);
  pairs.push(["Rolling re-verification", rolling(v.rolling, v.full)]);
  pairs.push([
    "Vault keys",
    v.missing_keys.length
      ? `${plural(v.missing_keys.length, "key")} missing with no erasure recorded: ${v.missing_keys.join(", ")}`
      : "every key the log names is held, or its erasure is recorded",
  ]);
  pairs.push(["Chain head", el("code", { class: "hash", text: v.head || "—" })]);
  return facts(pairs);
}

// The rolling pass re-hashes the whole log a slice a minute: what its last pass found (an
// alarm stands until a pass finds the log intact) and how far the one under way has come.
function rolling(r, full) {
  if (!r) return full ? "not consulted by a whole-log check" : "no slice run yet (the first runs a minute after the server starts)";
  const parts = [];
  const last = r.last_pass;
  if (last && last.reason) {
    parts.push(`ALARM: the pass finished `, timeEl(last.finished_at), ` stopped at event ${number(last.first_bad_id)} (${label(last.reason)}); `);
  }
  if (r.last_intact_pass_at) {
    parts.push(`events 1 to ${number(r.last_intact_pass_to)} found intact by the pass completed `, timeEl(r.last_intact_pass_at), "; ");
  } else {
    parts.push("no pass has completed yet; ");
  }
  parts.push(`the pass under way since `, timeEl(r.started_at), r.rehashed_to ? ` has re-hashed events 1 to ${number(r.rehashed_to)}` : " has re-hashed nothing yet");
  return parts;
}

function findings(v) {
  if (!v.findings.length) return null;
  return grid(
    v.findings.map((f) => ({ step: label(f.step), kind: label(f.kind), event: f.notification_id ?? "—", detail: f.detail })),
    [["step", "Step"], ["kind", "What was found"], ["event", "Event"], ["detail", "Detail"]],
    { caption: "Findings" },
  );
}

export function showVerification(v) {
  const box = document.getElementById("chain");
  box.replaceChildren(
    ...[
    el("p", { class: `headline ${v.ok ? "verified" : "unverified"}`, id: "verification", text: headline(v) }),
    scope(v),
    findings(v),
    el("details", {}, el("summary", { text: "The ledger's own words" }), el("p", { class: "ledger-words", text: v.verified || "—" })),
    ].filter(Boolean),
  );
}

export async function showChain({ full = false } = {}) {
  const v = await api("GET", `/audit/verify${full ? "?full=true" : ""}`);
  showVerification(v);
  return v;
}

// Tampering a check recorded in the log: the rolling pass's, and reads refused on failing
// their link or their inclusion in the latest checkpoint.
export async function showAlarms() {
  const { alarms } = await api("GET", "/audit/alarms");
  document.getElementById("alarms").replaceChildren(
    alarms.length
      ? grid(
          alarms.map((a) => ({ raised: timeEl(a.occurred_at), event: a.notification_id === null ? "—" : number(a.notification_id), kind: label(a.kind), found_by: label(a.found_by), detail: a.detail })),
          [["raised", "Raised"], ["event", "Event"], ["kind", "What"], ["found_by", "Found by"], ["detail", "Detail"]],
          { caption: "Integrity alarms" },
        )
      : el("p", { class: "verified", text: "No integrity alarm raised" }),
  );
}

// Witnessed checkpoints: the roots they hold against the roots of today's log.
export async function compareWitnesses() {
  const w = await api("GET", "/audit/witnesses");
  const rows = w.witnesses.map((x) => ({
    witness: x.url,
    result: x.first_mismatch
      ? el("span", {}, `MISMATCH at checkpoint ${x.first_mismatch.last_id} (tree size ${x.first_mismatch.tree_size}, witnessed `, timeEl(x.first_mismatch.witnessed_at), ")")
      : x.problem || (x.witnessed ? `${plural(x.witnessed, "witnessed checkpoint")} match` : "holds nothing yet"),
    acknowledged: x.acknowledged_last_id ? `up to event ${number(x.acknowledged_last_id)}` : "nothing yet",
    refused: x.refused,
  }));
  document.getElementById("witnesses").replaceChildren(
    ...[
    grid(rows, [["witness", "Witness"], ["result", "Result"], ["acknowledged", "Acknowledged"], ["refused", "Refused"]], {
      caption: "Witnesses",
      empty: "No witness configured (LFR_WITNESSES).",
    }),
    rows.length
      ? el("p", { class: w.ok ? "verified" : "unverified", text: w.ok ? "Every witness agrees with today's log" : "Not every witness agrees" })
      : null,
    ].filter(Boolean),
  );
}
