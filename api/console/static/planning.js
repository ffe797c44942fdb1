// Planner, authorising officer, watchlist manager (and the administrator's policy): each form
// posts to the route its data-endpoint names, for the deployment chosen at the top.
import { api, bindForm, el, fillDeployments, formBody, render, table, toast, when } from "./console.js";

const select = document.getElementById("deployment");
const role = document.body.dataset.role;

// Answers can land out of order (the deployment the page opened on, then the one chosen): only
// the latest call of each renderer draws, so a page never shows one deployment under another.
let deploymentCalls = 0;
let watchlistCalls = 0;

async function showDeployment() {
  const call = ++deploymentCalls;
  const facts = document.getElementById("deployment-facts");
  if (!select?.value) return facts?.replaceChildren(el("p", { class: "empty", text: "No deployment yet." }));
  const d = await api("GET", `/deployments/${select.value}`);
  if (call !== deploymentCalls) return;
  facts.replaceChildren(
    render({
      status: d.status,
      where: `${d.location.name}, ${d.location.town} (${d.location.location_type})`,
      window: `${when(d.starts_at)} to ${when(d.ends_at)}`,
      threshold: d.threshold,
      policy_version: d.policy_version,
      proposed_by: d.proposed_by,
      authorised_by: d.authorised_by,
      urgent: d.urgent,
      urgent_confirmed: d.urgent_confirmed,
      watchlist_size: d.watchlist_size,
      watchlist_reviewed: d.watchlist_reviewed,
      signage_confirmed_at: d.signage_confirmed_at,
      end_reason: d.end_reason,
      governance_documents: d.governance_documents,
    }),
  );
}

// The watchlist, for its reviewer: rows without personal data; an entry opens on request.
async function showWatchlist() {
  const slot = document.getElementById("watchlist");
  const call = ++watchlistCalls;
  if (!slot || !select?.value) return;
  const list = await api("GET", `/deployments/${select.value}/watchlist`);
  if (call !== watchlistCalls) return;
  document.getElementById("entry").replaceChildren();
  if (!list.entries.length) return slot.replaceChildren(el("p", { class: "empty", text: "No entries yet." }));
  const head = ["category", "status", "under 18", "image", "enrolled", "last confirmed", ""];
  slot.replaceChildren(
    el("p", { text: `${list.entries.length} entries; ${list.reviewed ? "reviewed" : "not reviewed since the last change"}` }),
    el(
      "table",
      {},
      el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col", text: h })))),
      el(
        "tbody",
        {},
        list.entries.map((e) =>
          el(
            "tr",
            {},
            el("td", { text: e.category }),
            el("td", { text: e.status }),
            el("td", { text: e.under_18 ? "yes" : "no" }),
            el("td", { text: e.has_image ? "yes" : "no" }),
            el("td", { text: `${when(e.enrolled_at)} by ${e.enrolled_by}` }),
            el("td", { text: when(e.confirmed_at) }),
            el("td", {}, el("button", { type: "button", text: "Open entry", onclick: () => openEntry(e.id).catch((x) => toast(x.message)) })),
          ),
        ),
      ),
    ),
  );
}

async function openEntry(entryId) {
  const purpose = `reviewing the watchlist of deployment ${select.value}`;
  const entry = await api("GET", `/watchlist/entries/${entryId}`, { purpose });
  const withdraw = el(
    "form",
    { "aria-label": "Withdraw this entry" },
    el(
      "div",
      { class: "field" },
      el("label", { for: "withdraw-reason", text: "Reason for withdrawing this entry" }),
      el("textarea", { id: "withdraw-reason", name: "reason", rows: 2, required: true }),
      el("p", { class: "field-error" }),
    ),
    el("p", { class: "form-error", role: "alert" }),
    el("button", { type: "submit", text: "Withdraw entry" }),
  );
  bindForm(withdraw, {
    path: `/watchlist/entries/${entryId}/withdrawal`,
    done: async () => {
      toast("Entry withdrawn");
      await refresh();
    },
  });
  const image = entry.has_image
    ? el("img", { class: "enrolled", src: `/watchlist/entries/${entryId}/image?purpose=${encodeURIComponent(purpose)}`, alt: "Enrolled image" })
    : el("p", { class: "empty", text: "No image held" });
  document.getElementById("entry").replaceChildren(
    el("h3", { text: `Entry ${entryId}` }),
    el("div", { class: "faces" }, image),
    render(entry),
    entry.status === "active" ? withdraw : null,
  );
}

// Who holds which LFR course, and whether it counts today (admin and authorising officer).
async function showTraining() {
  const slot = document.getElementById("training-records");
  if (!slot) return;
  const { records } = await api("GET", "/training");
  const rows = records.flatMap((r) =>
    r.courses.map((c) => ({ person: r.person, course: c.course, status: c.status, completed_on: c.completed_on, expires_on: c.expires_on, recorded_by: c.recorded_by })),
  );
  slot.replaceChildren(rows.length ? table(rows) : el("p", { class: "empty", text: "No training recorded yet." }));
}

// The register of governance documents: where each stands today, when it is due for review.
async function showRegister() {
  const slot = document.getElementById("governance-register");
  if (!slot) return;
  const { documents } = await api("GET", "/governance/documents");
  const rows = documents.map((d) => ({
    kind: d.kind,
    reference: d.reference,
    version: d.latest_version,
    standing: d.standing,
    review_by: d.review_by,
    expires_on: d.expires_on,
  }));
  slot.replaceChildren(rows.length ? table(rows) : el("p", { class: "empty", text: "No documents registered yet." }));
}

// The complaints about the chosen deployment (authorising officer): shown on request, since
// each showing is a logged read of personal data; recorded and resolved here.
let complaintsShown = false;
let complaintCalls = 0;

function hideComplaints() {
  complaintsShown = false;
  document.getElementById("complaints")?.replaceChildren();
}

async function showComplaints() {
  const slot = document.getElementById("complaints");
  if (!slot || !select?.value) return;
  const call = ++complaintCalls;
  complaintsShown = true;
  const { complaints } = await api("GET", `/deployments/${select.value}/complaints`);
  if (call !== complaintCalls) return;
  if (!complaints.length) return slot.replaceChildren(el("p", { class: "empty", text: "No complaints recorded." }));
  // The alert by its id's first eight characters: the table must fit its panel.
  const rows = complaints.map((c) => ({
    number: c.number,
    received: `${c.received_on} (${c.channel})`,
    about: c.alert_id ? `alert ${c.alert_id.slice(0, 8)}` : "the deployment",
    summary: c.summary,
    state: c.resolved_on ? `resolved ${c.resolved_on}: ${c.outcome}` : "open",
  }));
  slot.replaceChildren(table(rows), ...complaints.filter((c) => !c.resolved_on).map(resolutionForm));
}

function resolutionForm(complaint) {
  const id = `resolve-${complaint.number}`;
  const form = el(
    "form",
    { "aria-label": `Resolve complaint ${complaint.number}` },
    el("h4", { text: `Resolve complaint ${complaint.number}` }),
    el(
      "div",
      { class: "field" },
      el("label", { for: `${id}-outcome`, text: "Outcome: what was found, what was done" }),
      el("textarea", { id: `${id}-outcome`, name: "outcome", rows: 2, required: true }),
      el("p", { class: "field-error" }),
    ),
    el(
      "div",
      { class: "field" },
      el("label", { for: `${id}-resolved_on`, text: "Resolved on" }),
      el("input", { id: `${id}-resolved_on`, name: "resolved_on", type: "date", required: true }),
      el("p", { class: "field-error" }),
    ),
    el("p", { class: "form-error", role: "alert" }),
    el("button", { type: "submit", text: "Record resolution" }),
  );
  bindForm(form, {
    path: `/complaints/${complaint.id}/resolution`,
    done: async () => {
      toast(`Complaint ${complaint.number} resolved`);
      await showComplaints();
    },
  });
  return form;
}

const complaintForm = document.getElementById("complaint");
if (complaintForm) {
  bindForm(complaintForm, {
    path: "/complaints",
    body: async (form) => ({ ...(await formBody(form)), deployment_id: select.value }),
    done: async () => {
      toast("Complaint recorded");
      complaintForm.reset();
      if (complaintsShown) await showComplaints();
    },
  });
}
document.getElementById("show-complaints")?.addEventListener("click", () => showComplaints().catch((e) => toast(e.message)));

async function refresh(status) {
  if (!select) return;
  await fillDeployments(select, { status, prefer: ["proposed", "authorised", "live"] });
  await Promise.all([showDeployment(), showWatchlist()]);
}

const enrolled = [];
for (const form of document.querySelectorAll("form[data-endpoint]")) {
  bindForm(form, {
    path: () => form.dataset.endpoint.replace("{deployment_id}", select?.value || ""),
    done: async (reply) => {
      toast(`${form.querySelector("button[type=submit]").textContent}: recorded`);
      if (form.id === "enrol") {
        enrolled.unshift({ entry: reply.id, category: form.elements.category.value, status: reply.status });
        document.getElementById("enrolled").replaceChildren(table(enrolled));
      }
      form.reset();
      if (form.id === "operation") await fillChoices();
      if (form.id === "training") await showTraining();
      if (form.id === "governance") await showRegister();
      await refresh();
    },
  });
}

async function fillChoices() {
  const policy = await api("GET", "/policy");
  document.getElementById("policy").replaceChildren(render(policy));
  const fill = (id, values) => document.getElementById(id).replaceChildren(...values.map((v) => el("option", { value: v })));
  fill("location-types", policy.location_types);
  fill("categories", policy.watchlist_categories);
  document.getElementById("complaint-channels")?.replaceChildren(...(policy.complaint_channels || []).map((v) => el("option", { value: v })));
  document.getElementById("forces").replaceChildren(...(policy.forces || []).map((f) => el("option", { value: f.code, text: f.name })));
  fill("courses", [...new Set((policy.training || []).map((t) => t.course))]);
  const operations = document.getElementById("propose-operation_id");
  if (operations) {
    const list = await api("GET", "/operations");
    // A closed operation takes no new deployment: only the open ones are offered, newest first.
    const open = list.operations.reverse().filter((o) => o.status === "open");
    const options = () => open.map((o) => el("option", { value: o.operation_id, text: `${o.name} (${o.force})` }));
    operations.replaceChildren(...options());
    document.getElementById("close-operation-id")?.replaceChildren(...options());
  }
}

const closeOperation = document.getElementById("close-operation");
if (closeOperation) {
  bindForm(closeOperation, {
    path: () => `/operations/${document.getElementById("close-operation-id").value}/close`,
    body: async () => ({}),
    done: async () => {
      toast("Operation closed");
      await fillChoices();
    },
  });
}

select?.addEventListener("change", () => {
  hideComplaints();
  Promise.all([showDeployment(), showWatchlist()]).catch((e) => toast(e.message));
});
document.getElementById("show-proposed")?.addEventListener("click", (event) => {
  event.preventDefault();
  refresh("proposed").catch((e) => toast(e.message));
});
Promise.all([fillChoices(), showTraining(), showRegister(), role === "admin" ? null : refresh()]).catch((e) => toast(e.message));
