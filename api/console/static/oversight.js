// Oversight: the chain and its signed checkpoint, deployments, one deployment's whole history,
// consultations, disclosures, access review, subject access, equality, evidence bundles.
import { api, bindForm, clearErrors, el, fillDeployments, render, showProblem, table, toast, utc, when } from "./console.js";

const select = document.getElementById("deployment");

async function showChain() {
  const v = await api("GET", "/audit/verify");
  const cp = v.checkpoint;
  document.getElementById("chain").replaceChildren(
    // The headline says which events were re-hashed, so a check since a checkpoint never reads
    // as a full one ("Verified: 13 events" read as if only 13 were checked).
    el("p", { class: v.ok ? "verified" : "unverified", text: v.ok ? `Verified: ${v.verified}` : `NOT VERIFIED at event ${v.first_bad_id}: ${v.reason} ${v.detail}` }),
    render({
      rolling_re_verification: rollingText(v.rolling),
      head: v.head,
      signed_checkpoint: cp ? `event ${cp.last_id}, signed ${cp.created_at} by key ${cp.key_id}` : "none signed yet",
      checkpoint_signature: cp ? (cp.signature_ok ? "valid" : "INVALID") : null,
      log_extends_checkpoint: cp ? cp.extends : null,
      missing_keys: v.missing_keys.length ? v.missing_keys : "none",
      findings: v.findings.length ? v.findings : "none",
    }),
  );
}

// The rolling pass re-hashes the whole log a slice a minute: what its last pass found (an
// alarm stands until a pass finds the log intact) and how far the one under way has come.
function rollingText(r) {
  if (!r) return "no slice run yet";
  const last = r.last_pass;
  let done = "no pass completed yet";
  if (last && last.reason) {
    done = `ALARM: the pass finished ${when(last.finished_at)} stopped at event ${last.first_bad_id} (${last.reason})`;
  } else if (last) {
    done = `events 1–${last.rehashed_to} intact, pass completed ${when(last.finished_at)}`;
  }
  return `${done}; the pass under way since ${when(r.started_at)} has re-hashed events 1–${r.rehashed_to}`;
}

// Tampering a check recorded in the log: the rolling pass's, and reads refused on failing
// their link or their inclusion in the latest checkpoint.
async function showAlarms() {
  const { alarms } = await api("GET", "/audit/alarms");
  document.getElementById("alarms").replaceChildren(
    alarms.length
      ? table(alarms.map((a) => ({ raised: when(a.occurred_at), event: a.notification_id, kind: a.kind, found_by: a.found_by, detail: a.detail })))
      : el("p", { class: "verified", text: "No integrity alarm raised" }),
  );
}

// Results not on the public page within the policy's days of the end (each recorded in the
// log as PublicationOverdue by the ledger's deadline check).
async function showPublication() {
  const feed = await api("GET", "/public/deployments.json");
  const overdue = feed.results_due.filter((r) => r.overdue);
  document.getElementById("publication-overdue").replaceChildren(
    overdue.length
      ? table(overdue.map((r) => ({ place: `${r.location.name}, ${r.location.town}`, ended: when(r.ended_at), due_by: when(r.due_by), recorded_overdue: r.overdue_recorded_at ? when(r.overdue_recorded_at) : "not yet", deployment: r.deployment_id })))
      : el("p", { class: "verified", text: `No result overdue: each is published within ${feed.results_within_days} days of its deployment's end, or not yet due` }),
  );
}

// Witnessed checkpoints: the roots they hold against the roots of today's log.
async function compareWitnesses() {
  const w = await api("GET", "/audit/witnesses");
  const rows = w.witnesses.map((x) => ({
    witness: x.url,
    result: x.first_mismatch
      ? `MISMATCH at checkpoint ${x.first_mismatch.last_id} (tree size ${x.first_mismatch.tree_size}, witnessed ${when(x.first_mismatch.witnessed_at)})`
      : x.problem || (x.witnessed ? `${x.witnessed} witnessed checkpoints match` : "holds nothing yet"),
    acknowledged_up_to: x.acknowledged_last_id,
    refused: x.refused,
  }));
  document.getElementById("witnesses").replaceChildren(
    rows.length ? table(rows) : el("p", { class: "empty", text: "No witness configured (LFR_WITNESSES)" }),
    el("p", { class: w.ok ? "verified" : "unverified", text: w.ok ? "Every witness agrees with today's log" : "Not every witness agrees" }),
  );
}

async function showDeployments() {
  const status = document.getElementById("status-filter").value;
  const list = await api("GET", `/deployments${status ? `?status=${status}` : ""}`);
  document.getElementById("deployments").replaceChildren(
    table(list.deployments.map((d) => ({ town: d.town, place: d.location_name, window_opens: when(d.starts_at), status: d.status, urgent: d.urgent, deployment: d.deployment_id }))),
  );
}

const REFUSALS = /Refused|Lapsed|Withdrawn|Erased|Silent/;

function eventItem(event) {
  const topic = event.topic.split(".").at(-1).split(":").at(-1);
  const data = event.data || {};
  const policy = data.policy_version ? ` · policy ${data.policy_version}` : "";
  const who = event.actor ? `${event.actor.id} (${event.actor.role})` : "the ledger";
  return el(
    "li",
    { class: REFUSALS.test(topic) ? "refusal" : null },
    el("span", { class: "topic", text: topic.replace(/([a-z])([A-Z])/g, "$1 $2") }),
    el("div", { class: "meta", text: `#${event.notification_id} · ${when(event.occurred_at || event.recorded_at)} · ${who}${policy}` }),
    el("details", {}, el("summary", { text: "Fields" }), render(data)),
  );
}

function purposeFor(form) {
  return form.elements.purpose.value.trim();
}

async function guarded(form, work) {
  clearErrors(form);
  try {
    await work();
  } catch (error) {
    showProblem(form, error);
  }
}

const historyForm = document.getElementById("history-form");
historyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(historyForm, async () => {
    const reply = await api("GET", `/deployments/${select.value}/history`, { purpose: purposeFor(historyForm) });
    document.getElementById("timeline").replaceChildren(...reply.events.map(eventItem));
    await showConsultations();
  });
});

document.getElementById("bundle").addEventListener("click", () => {
  guarded(historyForm, async () => {
    const response = await api("GET", `/oversight/bundles/${select.value}`, { purpose: purposeFor(historyForm) });
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: `bundle-${select.value}.zip` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    toast("Bundle downloaded");
  });
});

const subjectForm = document.getElementById("subject-form");
subjectForm.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(subjectForm, async () => {
    const f = subjectForm.elements;
    const query = new URLSearchParams({
      subject_ref: f.subject_ref.value.trim(),
      from: utc(f.from.value),
      to: utc(f.to.value),
    });
    const reply = await api("GET", `/subject-access?${query}`, { purpose: purposeFor(subjectForm) });
    document.getElementById("subject").replaceChildren(render(reply));
  });
});

const equalityForm = document.getElementById("equality-form");
equalityForm.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(equalityForm, async () => {
    const reply = await api("GET", "/oversight/equality", { purpose: purposeFor(equalityForm) });
    document.getElementById("equality").replaceChildren(render(reply));
  });
});

async function showDisclosures() {
  const reply = await api("GET", "/audit/disclosures");
  document.getElementById("disclosures").replaceChildren(table(reply.disclosures));
}
async function showConsultations() {
  const reply = await api("GET", "/audit/consultations?limit=1000");
  const rows = reply.consultations.slice(-50).reverse();
  document.getElementById("consultations").replaceChildren(table(rows, null, { caption: "The latest 50" }));
}
async function showAccessReview() {
  const reply = await api("GET", "/oversight/access-review");
  document.getElementById("access-review").replaceChildren(render(reply.records));
}

bindForm(document.getElementById("disclosure"), {
  path: "/oversight/disclosures",
  done: async (_, form) => {
    form.reset();
    toast("Disclosure recorded");
    await showDisclosures();
  },
});

document.getElementById("status-filter").addEventListener("change", () => showDeployments().catch((e) => toast(e.message)));
document.getElementById("compare-witnesses").addEventListener("click", () => compareWitnesses().catch((e) => toast(e.message)));
document.getElementById("history-purpose").value = "oversight review of this deployment";
for (const work of [showChain, showAlarms, showPublication, showDeployments, showDisclosures, showConsultations, showAccessReview, () => fillDeployments(select)]) {
  work().catch((error) => toast(error.message));
}
