// What hangs on no deployment: the complaints register of the chosen one (a logged read of
// personal data, shown on request), who holds which LFR course, and the governance register.
import { api, bindForm, el, formBody, scrollBox, toast } from "./console.js";
import { day, label, plural, shortId } from "./format.js";
import { grid } from "./planning-watchlist.js";

// --- complaints (authorising officer) ----------------------------------------------------

let complaintCalls = 0;
let complaintsShown = false;

export function hideComplaints() {
  complaintsShown = false;
  document.getElementById("complaints")?.replaceChildren();
}

export async function showComplaints(deploymentId) {
  const slot = document.getElementById("complaints");
  if (!slot || !deploymentId) return;
  const call = ++complaintCalls;
  complaintsShown = true;
  const { complaints } = await api("GET", `/deployments/${deploymentId}/complaints`);
  if (call !== complaintCalls) return;
  if (!complaints.length) return slot.replaceChildren(el("p", { class: "empty", text: "No complaints recorded." }));
  const rows = complaints.map((c) => [
    String(c.number),
    `${day(c.received_on)} (${label(c.channel)})`,
    c.alert_id ? el("span", {}, "alert ", shortId(c.alert_id)) : "the deployment",
    c.summary,
    c.resolved_on ? `resolved ${day(c.resolved_on)}: ${c.outcome}` : "open",
  ]);
  slot.replaceChildren(
    el("p", { text: plural(complaints.length, "complaint") }),
    scrollBox(grid(["Number", "Received", "About", "Summary", "State"], rows), "Complaints"),
    ...complaints.filter((c) => !c.resolved_on).map((c) => resolutionForm(c, deploymentId)),
  );
}

function resolutionForm(complaint, deploymentId) {
  const id = `resolve-${complaint.number}`;
  const field = (name, text, control) =>
    el("div", { class: "field" }, el("label", { for: `${id}-${name}`, text }), control, el("p", { class: "field-error" }));
  const form = el(
    "form",
    { "aria-label": `Resolve complaint ${complaint.number}` },
    el("h4", { text: `Resolve complaint ${complaint.number}` }),
    field("outcome", "Outcome: what was found, what was done", el("textarea", { id: `${id}-outcome`, name: "outcome", rows: 2, required: true })),
    field("resolved_on", "Resolved on", el("input", { id: `${id}-resolved_on`, name: "resolved_on", type: "date", required: true })),
    el("p", { class: "form-error", role: "alert" }),
    el("button", { type: "submit", text: "Record resolution" }),
  );
  bindForm(form, {
    path: `/complaints/${complaint.id}/resolution`,
    done: async () => {
      toast(`Complaint ${complaint.number} resolved`);
      await showComplaints(deploymentId);
    },
  });
  return form;
}

export function bindComplaints(chosen) {
  const form = document.getElementById("complaint");
  if (!form) return;
  bindForm(form, {
    path: "/complaints",
    body: async (f) => ({ ...(await formBody(f)), deployment_id: chosen() }),
    done: async () => {
      toast("Complaint recorded");
      form.reset();
      if (complaintsShown) await showComplaints(chosen());
    },
  });
  document.getElementById("show-complaints")?.addEventListener("click", () => showComplaints(chosen()).catch((e) => toast(e.message)));
}

// --- training and governance -------------------------------------------------------------

export async function showTraining() {
  const slot = document.getElementById("training-records");
  if (!slot) return;
  const { records } = await api("GET", "/training");
  const rows = records.flatMap((r) =>
    r.courses.map((c) => [r.person, label(c.course), label(c.status), day(c.completed_on), day(c.expires_on), c.recorded_by]),
  );
  slot.replaceChildren(
    rows.length
      ? scrollBox(grid(["Staff number", "Course", "Standing", "Completed on", "Expires on", "Recorded by"], rows), "LFR training records")
      : el("p", { class: "empty", text: "No training recorded yet." }),
  );
}

export async function showRegister() {
  const slot = document.getElementById("governance-register");
  if (!document.getElementById("governance-panel")) return [];
  const { documents } = await api("GET", "/governance/documents");
  const rows = documents.map((d) => [
    label(d.kind),
    d.reference,
    d.latest_version ?? "—",
    label(d.standing),
    d.review_by ? day(d.review_by) : "—",
    d.expires_on ? day(d.expires_on) : "—",
  ]);
  slot?.replaceChildren(
    rows.length
      ? scrollBox(grid(["Kind", "Reference", "Version", "Standing", "Review by", "Expires on"], rows), "Governance register")
      : el("p", { class: "empty", text: "No documents registered yet." }),
  );
  return documents;
}

// A model evaluation names the model and its report's digest; no other kind takes them.
export function bindDocumentKind() {
  const kind = document.getElementById("governance-kind");
  const extra = document.querySelector(".evaluation-only");
  if (!kind || !extra) return;
  const apply = () => {
    const evaluation = kind.value === "model_evaluation";
    extra.hidden = !evaluation;
    for (const input of extra.querySelectorAll("input")) input.disabled = !evaluation;
  };
  kind.addEventListener("change", apply);
  apply();
}
