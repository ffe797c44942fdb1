// The operator's screen in the van: the deployment's state and controls, its cameras, and the
// alert queue, adjudicated by mouse or keyboard alone.
import { AlertFeed, chime } from "./alerts.js";
import { api, bindForm, el, fillDeployments, render, table, toast, when } from "./console.js";
import { factorPicker, showWhen, withFactors } from "./factors.js";

const select = document.getElementById("deployment");
const queue = document.getElementById("queue");
const streamState = document.getElementById("stream-state");
const baseTitle = document.title;
let deploymentId = null;
let camerasTimer = null;

const DECISIONS = [
  ["match", "Match", "m"],
  ["no_match", "No match", "n"],
  ["inconclusive", "Inconclusive", "i"],
];

function purpose(alert) {
  return `adjudicating alert ${alert.id}`;
}

function noImage(event) {
  event.target.replaceWith(el("p", { class: "empty", text: "No image to show" }));
}

function faces(alert) {
  const query = `purpose=${encodeURIComponent(purpose(alert))}`;
  return el(
    "div",
    { class: "faces" },
    el(
      "figure",
      {},
      el("img", { src: `/alerts/${alert.id}/face-crop?${query}`, alt: `Face captured by camera ${alert.camera_id}`, onerror: noImage }),
      el("figcaption", { text: "Captured face (from the camera)" }),
    ),
    el(
      "figure",
      {},
      el("img", { src: `/watchlist/entries/${alert.entry_id}/image?${query}`, alt: "Enrolled watchlist image", onerror: noImage }),
      el("figcaption", { text: "Enrolled image (watchlist entry)" }),
    ),
  );
}

function decisionForm(alert) {
  const id = alert.id;
  const form = el(
    "form",
    { class: "adjudication", "aria-label": `Adjudicate alert ${id}` },
    el(
      "fieldset",
      {},
      el("legend", { text: "Decision" }),
      DECISIONS.map(([value, text, key]) =>
        el(
          "label",
          { class: "field inline" },
          el("input", { type: "radio", name: "decision", value, required: true, "data-key": key }),
          `${text} (${key})`,
        ),
      ),
    ),
    factorPicker(`factors-${id}`, "Why it was false"),
    el(
      "div",
      { class: "field" },
      el("label", { for: `reason-${id}`, text: "Reason (what you saw)" }),
      el("textarea", { id: `reason-${id}`, name: "reason", rows: 2, maxlength: 2000, required: true }),
      el("p", { class: "field-error" }),
    ),
    el("p", { class: "form-error", role: "alert" }),
    el("button", { type: "submit", class: "primary", text: "Record decision" }),
  );
  // A no match says why the alert was false (the policy's factors); other decisions name none.
  showWhen(form, form.querySelector(".factors"), () => form.querySelector('input[name="decision"]:checked')?.value === "no_match");
  const reason = form.elements.reason;
  reason.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  bindForm(form, {
    path: `/alerts/${id}/adjudication`,
    body: withFactors,
    done: () => toast(`Alert ${id.slice(0, 8)}: decision recorded`),
  });
  return form;
}

function cardBody(alert) {
  const decided = alert.decision
    ? el("p", {
        class: "decided",
        text: `Decided ${alert.decision.replace("_", " ")} by ${alert.adjudicated_by || "an operator"} at ${when(alert.adjudicated_at)}`,
      })
    : null;
  return [
    el("h3", { text: `${alert.category} · camera ${alert.camera_id}` }),
    el("p", {
      text: `Similarity ${Number(alert.similarity).toFixed(3)} against the threshold ${alert.threshold} in force · captured ${when(alert.captured_at)} · ${alert.status.replaceAll("_", " ")}`,
    }),
    decided,
    alert.decision ? null : faces(alert),
    alert.decision ? null : decisionForm(alert),
  ];
}

function renderAlert(alert, arrived) {
  let card = queue.querySelector(`[data-alert-id="${alert.id}"]`);
  const shown = card ? `${card.dataset.status}/${card.dataset.decision}` : null;
  const now = `${alert.status}/${alert.decision || ""}`;
  if (card && shown === now) return;
  if (!card) {
    card = el("article", { class: "alert-card", tabindex: 0, "data-alert-id": alert.id });
    queue.prepend(card);
  }
  card.dataset.status = alert.status;
  card.dataset.decision = alert.decision || "";
  card.classList.toggle("pending", !alert.decision);
  card.setAttribute("aria-label", `Alert, ${alert.category}, camera ${alert.camera_id}${alert.decision ? ", decided" : ", awaiting decision"}`);
  card.replaceChildren(...cardBody(alert).filter(Boolean));
  if (arrived) {
    card.classList.add("arrived");
    chime();
    toast(`New alert: ${alert.category}, camera ${alert.camera_id}`);
  }
  const pending = queue.querySelectorAll(".alert-card.pending").length;
  document.getElementById("pending-count").textContent = pending ? `(${pending} awaiting a decision)` : "";
  document.title = pending ? `(${pending}) ${baseTitle}` : baseTitle;
}

const feed = new AlertFeed({
  onChange: renderAlert,
  onState: (state) => (streamState.textContent = `Live stream: ${state}`),
});

async function showDeployment() {
  const d = await api("GET", `/deployments/${deploymentId}`);
  const facts = document.getElementById("deployment-facts");
  facts.replaceChildren(
    ...[
      ["Status", d.status],
      ["Where", `${d.location.name}, ${d.location.town}`],
      ["Window", `${when(d.starts_at)} to ${when(d.ends_at)}`],
      ["Threshold in force", d.threshold],
      ["Watchlist", `${d.watchlist_size} entries${d.watchlist_reviewed ? ", reviewed" : ""}`],
      ["Signage", d.signage_confirmed_at ? `confirmed ${when(d.signage_confirmed_at)}` : "not confirmed: confirm it before Start"],
    ].flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v, class: k === "Status" ? "status" : null })]),
  );
}

// A time of day in UTC, as every time on the console is.
function timeOfDay(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return `${date.toLocaleTimeString("en-GB", { timeZone: "UTC", hour12: false })} UTC`;
}

// What the matcher's source gave it over the interval of its last heartbeat. An older matcher
// counts neither frames offered nor processed (both 0): only its drops are shown.
function frameCounts(beat) {
  if (!beat) return "no heartbeat yet";
  const offered = beat.frames_offered || 0;
  const processed = beat.frames_processed || 0;
  const dropped = beat.frames_dropped || 0;
  if (!offered && !processed) return `${dropped} dropped`;
  return `${offered} offered · ${processed} processed · ${dropped} dropped`;
}

// The video source as the last heartbeat saw it: lost (a gap still open), or the gaps it had.
function sourceState(beat) {
  if (!beat) return "—";
  const gaps = beat.source_gaps || [];
  const open = gaps.find((gap) => !gap.ended_at);
  if (open) return `source lost since ${timeOfDay(open.started_at)}`;
  if (!gaps.length) return "no loss reported";
  const last = gaps[gaps.length - 1];
  return `back since ${timeOfDay(last.ended_at)} (${gaps.length} loss${gaps.length > 1 ? "es" : ""} reported)`;
}

async function showCameras() {
  const reply = await api("GET", `/deployments/${deploymentId}/cameras`);
  const rows = reply.cameras.map((c) => ({
    camera: `${c.camera_id} (${c.name})`,
    state: c.state,
    last_heard: when(c.last_seen_at),
    source: sourceState(c.last_heartbeat),
    frames_last_interval: frameCounts(c.last_heartbeat),
    last_face_count: c.last_face_report ? `${c.last_face_report.faces} faces to ${when(c.last_face_report.period_end)}` : "none yet",
  }));
  document.getElementById("cameras").replaceChildren(table(rows, null, { caption: `Checked ${when(reply.checked_at)}` }));
}

async function follow() {
  deploymentId = select.value;
  if (!deploymentId) return;
  queue.replaceChildren();
  await Promise.all([showDeployment(), showCameras(), feed.follow(deploymentId)]);
  clearInterval(camerasTimer);
  camerasTimer = setInterval(() => showCameras().catch(() => {}), 5000);
}

for (const form of document.querySelectorAll("form[data-action]")) {
  bindForm(form, {
    path: () => `/deployments/${deploymentId}/${form.dataset.action}`,
    done: async () => {
      toast(`Deployment: ${form.dataset.action} recorded`);
      await showDeployment();
    },
  });
}

// Keys act on the focused alert card, or on the first one awaiting a decision.
function cards() {
  return [...queue.querySelectorAll(".alert-card")];
}
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest?.("input, textarea, select");
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  const all = cards();
  const current = event.target.closest?.(".alert-card") || queue.querySelector(".alert-card.pending");
  const index = all.indexOf(current);
  if (event.key === "j" || event.key === "k") {
    const next = all[Math.max(0, Math.min(all.length - 1, index + (event.key === "j" ? 1 : -1)))];
    next?.focus();
    event.preventDefault();
    return;
  }
  const choice = DECISIONS.find(([, , key]) => key === event.key);
  const form = current?.querySelector("form.adjudication");
  if (choice && form) {
    form.querySelector(`input[value="${choice[0]}"]`).checked = true;
    form.dispatchEvent(new Event("change")); // shows the false-alert factors for "n"
    form.elements.reason.focus();
    event.preventDefault();
  }
});

select.addEventListener("change", () => follow().catch((e) => toast(e.message)));
fillDeployments(select, { prefer: ["live", "paused", "authorised"] })
  .then(follow)
  .catch((error) => document.getElementById("queue").replaceChildren(render({ error: error.message })));
