// The operator's screen in the van: the queue of alerts first (both faces large enough to
// compare), the deployment and its cameras beside it; controls only for the moves the
// deployment's state allows; alerts decided by mouse or keyboard alone (operator-keys.js).
import { AlertFeed, chime, faces, facesDialog } from "./alerts.js";
import { api, bindForm, clearErrors, el, fillDeployments, label, render, toast } from "./console.js";
import { factorPicker, showWhen, withFactors } from "./factors.js";
import { day, plural, timeEl } from "./format.js";
import { CameraWatch } from "./operator-cameras.js";
import { QueueKeys } from "./operator-keys.js";

const select = document.getElementById("deployment");
const queue = document.getElementById("queue");
const heading = document.querySelector("main h1");
const message = document.getElementById("queue-message");
let deploymentId = null;
let deployment = null;

const DECISIONS = [
  ["match", "Match", "m"],
  ["no_match", "No match", "n"],
  ["inconclusive", "Inconclusive", "i"],
];
// The moves each control makes, and the states that allow them (domain/deployment/lifecycle.py
// and signage.py): any other state leaves the control disabled.
const ALLOWED = {
  signage: ["authorised"],
  start: ["authorised"],
  pause: ["live"],
  resume: ["paused"],
  end: ["authorised", "live", "paused"],
};
const NEXT_MOVES = {
  proposed: "Not yet authorised: nothing to do here.",
  refused: "Refused: nothing can change.",
  authorised: "Authorised: confirm the signage, then Start.",
  live: "Live: Pause, or End once every alert is decided.",
  paused: "Paused: Resume, or End once every alert is decided.",
  ended: "Ended: nothing more can change.",
};

// An announcement read out at once (the same words twice are read twice).
function say(text) {
  message.textContent = "";
  setTimeout(() => (message.textContent = text), 30);
}

const openFaces = facesDialog(document.getElementById("faces-dialog"));
const cameras = new CameraWatch({
  list: document.getElementById("cameras"),
  state: document.getElementById("cameras-state"),
  // The deployment paused, resumed or ended elsewhere (another operator, its deadline).
  onStatus: (status) => deployment && status !== deployment.status && showDeployment().catch(() => {}),
});

function cardTitle(alert) {
  return `${label(alert.category)}, ${cameras.name(alert.camera_id)}`;
}

function enlarge(card) {
  const container = card.querySelector(".faces");
  if (!container) return say("This alert's faces are not shown: it is decided.");
  openFaces(container, `Alert: ${cardTitle(card.alert)}. Enrolled image left, captured face right`);
}

function decisionForm(alert, card) {
  const id = alert.id;
  const form = el(
    "form",
    { class: "adjudication", "aria-label": `Decide alert ${id.slice(0, 8)}` },
    el(
      "fieldset",
      { class: "decision" },
      el("legend", { text: "Decision" }),
      DECISIONS.map(([value, text, key]) =>
        el("label", { class: "field inline" }, el("input", { type: "radio", name: "decision", value, required: true }), `${text} (${key})`),
      ),
    ),
    factorPicker(`factors-${id}`, "Why it was false"),
    el(
      "div",
      { class: "field" },
      el("label", { for: `reason-${id}`, text: "What you saw (Enter records it)" }),
      el("textarea", { id: `reason-${id}`, name: "reason", rows: 2, maxlength: 2000, required: true }),
      el("p", { class: "field-error" }),
    ),
    el("p", { class: "form-error", role: "alert" }),
    el("button", { type: "submit", class: "primary", text: "Record decision" }),
  );
  // A no match says why the alert was false (the policy's factors); other decisions name none.
  showWhen(form, form.querySelector(".factors"), () => form.querySelector('input[name="decision"]:checked')?.value === "no_match");
  // Enter records from the reason; a no match without a factor ticked first asks why it was
  // false, once (Enter again records it as it stands: the ledger says if the policy needs one).
  form.elements.reason.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey) return;
    event.preventDefault();
    const first = form.querySelector("input[data-factor]");
    const none = !form.querySelector("input[data-factor]:checked");
    if (form.elements.decision.value === "no_match" && none && first && !form.dataset.asked) {
      form.dataset.asked = "1";
      first.focus();
      return say("No match: tick why it was false (Tab moves, Space ticks), then press Enter to record.");
    }
    form.requestSubmit();
  });
  // Enter on a ticked box or a chosen decision records too: no need to go back to the text.
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches?.('input[type="checkbox"], input[type="radio"]')) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  for (const type of ["input", "change"]) form.addEventListener(type, () => (form.dataset.touched = "1"));
  bindForm(form, {
    path: `/alerts/${id}/adjudication`,
    body: withFactors,
    done: () => decided(card, form.querySelector('input[name="decision"]:checked')?.value),
  });
  return form;
}

// Recorded from this screen: the card leaves the keys' round at once (the stream's event then
// redraws it with the decider), and focus moves to the next alert awaiting a decision.
function decided(card, decision) {
  card.classList.remove("pending");
  card.dataset.decidedText = `${label(decision)}, recorded from this screen`;
  // The stream's event may redraw the card before the reply arrives, and the operator move on
  // to the next alert meanwhile: focus then stays where the operator took it, mid-sentence.
  const active = document.activeElement;
  const next = keys.nextPending(card);
  if (active && active !== document.body && !card.contains(active)) {
    say(`Decision recorded: ${label(decision)}.`);
  } else if (next) {
    keys.focus(next);
    say(`Decision recorded: ${label(decision)}. Next: ${cardTitle(next.alert)}.`);
  } else {
    card.focus();
    say(`Decision recorded: ${label(decision)}. No alert is awaiting a decision.`);
  }
  updateCounts();
}

// Chromium's autofill reads every form control on the page again 100 ms after one is added or
// removed, in one task: with 200 cards each holding its decision form that task took 0.1-0.9 s
// and held back the stream's next alert (issue 28). So only cards on or near the screen hold
// their form; the others hold an empty slot of the same width until they come near again.
// A form being used (typed in, ticked, in focus, sending) is never taken away.
const nearScreen = new IntersectionObserver(
  (entries) => {
    for (const { target, isIntersecting } of entries) {
      target.near = isIntersecting;
      if (isIntersecting) ensureForm(target);
      else dropForm(target);
    }
  },
  { rootMargin: "100% 0px" },
);

function formSlot() {
  return el("div", { class: "adjudication-slot" });
}

// The card's decision form, built now if its slot is empty (a key may act on a far card).
function ensureForm(card) {
  const slot = card.querySelector(".adjudication-slot");
  if (!slot) return card.querySelector("form.adjudication");
  const form = decisionForm(card.alert, card);
  slot.replaceWith(form);
  return form;
}

function dropForm(card) {
  const form = card.querySelector("form.adjudication");
  if (!form || form.dataset.touched || form.dataset.busy || form.contains(document.activeElement)) return;
  form.replaceWith(formSlot());
}

function cardBody(alert, card) {
  const meta = el(
    "p",
    { class: "meta" },
    `Similarity ${Number(alert.similarity).toFixed(3)} (threshold ${alert.threshold}) · captured `,
    timeEl(alert.captured_at),
  );
  if (!alert.decision) {
    const compare = el(
      "div",
      { class: "compare" },
      faces(alert, `adjudicating alert ${alert.id}`, { cameraName: cameras.name(alert.camera_id), enlarge: () => enlarge(card) }),
      formSlot(),
    );
    return [el("h3", { text: cardTitle(alert) }), meta, compare];
  }
  const after = alert.status && alert.status !== "adjudicated" ? ` · now ${label(alert.status).toLowerCase()}` : "";
  const line = el(
    "p",
    { class: "decided" },
    `Decided ${label(alert.decision).toLowerCase()} by ${alert.adjudicated_by || "an operator"} at `,
    timeEl(alert.adjudicated_at),
    after,
  );
  return [el("h3", { text: cardTitle(alert) }), meta, line];
}

function renderAlert(alert, arrived) {
  let card = queue.querySelector(`[data-alert-id="${alert.id}"]`);
  const shown = card ? `${card.dataset.status}/${card.dataset.decision}/${card.dataset.by}` : null;
  if (card && shown === `${alert.status}/${alert.decision || ""}/${alert.adjudicated_by || ""}`) return;
  if (!card) {
    // A new alert lands at the queue's top: near the screen if the card it goes above is, and
    // then its form is there from the first frame. Other cards wait for the observer's word.
    const above = queue.querySelector(".alert-card");
    card = el("article", { class: "alert-card", tabindex: 0, "data-alert-id": alert.id });
    card.near = Boolean(arrived && (above ? above.near : true));
    queue.prepend(card);
    nearScreen.observe(card);
  }
  card.alert = alert;
  card.dataset.status = alert.status;
  card.dataset.decision = alert.decision || "";
  card.dataset.by = alert.adjudicated_by || "";
  card.classList.toggle("pending", !alert.decision);
  if (alert.decision) card.dataset.decidedText = `${label(alert.decision)} by ${alert.adjudicated_by || "an operator"}`;
  const state = alert.decision ? `decided ${label(alert.decision).toLowerCase()} by ${alert.adjudicated_by || "an operator"}` : "awaiting a decision";
  card.setAttribute("aria-label", `Alert: ${cardTitle(alert)}, ${state}`);
  card.replaceChildren(...cardBody(alert, card));
  if (card.near) ensureForm(card);
  if (arrived) {
    card.classList.add("arrived");
    chime();
    toast(`New alert: ${cardTitle(alert)}`);
  }
  updateCounts();
}

function title() {
  const status = deployment?.status;
  if (!status) return "Deployment";
  return status === "live" ? "Live deployment" : `Deployment — ${label(status).toLowerCase()}`;
}

function updateCounts() {
  const pending = queue.querySelectorAll(".alert-card.pending").length;
  document.getElementById("pending-count").textContent = pending ? `(${plural(pending, "alert")} awaiting a decision)` : "";
  heading.textContent = title();
  document.title = `${pending ? `(${pending}) ` : ""}${title()} · lfr-ledger`;
  applyControls(pending);
}

// Each control enabled only for a move the deployment's state allows; End also waits for every
// alert to be decided (the ledger refuses it before). A disabled control drops an old refusal.
function applyControls(pending) {
  const status = deployment?.status;
  for (const form of document.querySelectorAll("form[data-action]")) {
    const action = form.dataset.action;
    let allowed = Boolean(status) && ALLOWED[action].includes(status);
    if (action === "end" && pending) allowed = false;
    form.querySelector("fieldset.control").disabled = !allowed;
    if (!allowed) clearErrors(form);
  }
  const wait = pending && ["live", "paused"].includes(status) ? ` Decide the ${plural(pending, "alert")} awaiting a decision before End.` : "";
  document.getElementById("controls-note").textContent = status ? `${NEXT_MOVES[status] || ""}${wait}` : "";
}

async function showDeployment() {
  deployment = await api("GET", `/deployments/${deploymentId}`);
  const d = deployment;
  const facts = [
    ["Status", label(d.status)],
    ["Where", `${d.location.name}, ${d.location.town}`],
    ["Window", [timeEl(d.starts_at), " to ", timeEl(d.ends_at)]],
    ["Threshold", String(d.threshold)],
    ["Watchlist", `${plural(d.watchlist_size, "entry", "entries")}${d.watchlist_reviewed ? ", reviewed" : ", not reviewed"}`],
    ["Signage", d.signage_confirmed_at ? ["Confirmed ", timeEl(d.signage_confirmed_at)] : "Not confirmed: confirm it before Start"],
  ];
  document.getElementById("deployment-facts").replaceChildren(
    ...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { class: k === "Status" ? "status" : null }, ...[v].flat())]),
  );
  document.getElementById("signage-box").open = d.status === "authorised" && !d.signage_confirmed_at;
  updateCounts();
}

async function follow() {
  deploymentId = select.value;
  if (!deploymentId) return;
  deployment = null;
  nearScreen.disconnect();
  queue.replaceChildren();
  message.textContent = "";
  cameras.follow(deploymentId);
  await Promise.all([showDeployment(), feed.follow(deploymentId)]);
  if (!queue.children.length) queue.append(el("p", { class: "empty", id: "queue-empty", text: "No alerts yet: new ones appear here." }));
}

const feed = new AlertFeed({
  onChange: (alert, arrived) => {
    document.getElementById("queue-empty")?.remove();
    renderAlert(alert, arrived);
  },
  onState: (state) => (document.getElementById("stream-state").textContent = `Live stream: ${state}`),
});

const keys = new QueueKeys({
  queue,
  say,
  enlarge,
  choose: (card, decision) => {
    const form = ensureForm(card);
    form.querySelector(`input[value="${decision}"]`).checked = true;
    form.dispatchEvent(new Event("change")); // shows the false-alert factors for "n"
    form.elements.reason.focus();
  },
});

for (const form of document.querySelectorAll("form[data-action]")) {
  bindForm(form, {
    path: () => `/deployments/${deploymentId}/${form.dataset.action}`,
    done: async () => {
      toast(`${label(form.dataset.action)}: recorded`);
      await showDeployment();
    },
  });
}

select.addEventListener("change", () => follow().catch((e) => toast(e.message)));
fillDeployments(select, { prefer: ["live", "paused", "authorised"] })
  .then((list) => {
    // Words and a UK date in the choice, not codes and an ISO day.
    for (const d of list) {
      const option = select.querySelector(`option[value="${d.deployment_id}"]`);
      if (option) option.textContent = `${d.town}, ${d.location_name} · ${day(d.starts_at)} · ${label(d.status)}`;
    }
    return follow();
  })
  .catch((error) => queue.replaceChildren(render({ error: error.message })));
