// Planner, authorising officer, watchlist manager (and the administrator's registers): each form
// posts to the route its data-endpoint names, for the deployment chosen on the left; each task
// shows its form only when that deployment's state allows it (planning-state.js).
import { api, bindForm, el, formBody, toast } from "./console.js";
import { fromUkLocal, timeEl } from "./format.js";
import { fillChoices, fillOperations, loadPolicy, policySummary, suggestReferences } from "./planning-choices.js";
import { facts, fillDeploymentSelect, nextStep } from "./planning-facts.js";
import { bindComplaints, bindDocumentKind, hideComplaints, showRegister, showTraining } from "./planning-records.js";
import { applyState } from "./planning-state.js";
import { noteEnrolment, showWatchlist } from "./planning-watchlist.js";

const select = document.getElementById("deployment");
const onlyProposed = document.getElementById("only-proposed");
const context = { deployments: [], operations: [], published: new Map(), due: new Map(), deployment: null };

// Answers can land out of order (the deployment the page opened on, then the one chosen): only
// the latest call draws, so a page never shows one deployment under another.
let deploymentCalls = 0;

async function showDeployment() {
  const call = ++deploymentCalls;
  const slot = document.getElementById("deployment-facts");
  const next = document.getElementById("next-step");
  if (!select?.value) {
    context.deployment = null;
    slot?.replaceChildren(el("p", { class: "empty", text: onlyProposed?.checked ? "No proposal awaits a decision." : "No deployment yet." }));
    next?.replaceChildren();
    applyState(null);
    return;
  }
  const d = await api("GET", `/deployments/${select.value}`);
  if (call !== deploymentCalls) return;
  context.deployment = d;
  slot.replaceChildren(facts(d, context.operations));
  next.textContent = nextStep(d);
  fillChoices({ only: "deployment_categories", deployment: d });
  const due = context.due.get(d.id);
  document.getElementById("publish-due")?.replaceChildren(...(due ? ["Due by ", timeEl(due), "."] : []));
  applyState(d, context);
}

function showChosen() {
  return Promise.all([showDeployment(), showWatchlist(select?.value, { onChange: () => refresh() })]);
}

// Which deployments' results are on the public page already, and when the others are due (the
// public feed: no sign-in, no personal data, at most a minute behind the log).
async function loadPublication() {
  if (!document.querySelector('[data-task="publish"]')) return;
  const feed = await api("GET", "/public/deployments.json");
  context.published = new Map(feed.results.map((r) => [r.deployment_id, r.published_at]));
  context.due = new Map(feed.results_due.map((r) => [r.deployment_id, r.due_by]));
}

async function refresh({ choose } = {}) {
  if (!select) return;
  const query = onlyProposed?.checked ? "?status=proposed" : "";
  const [list] = await Promise.all([api("GET", `/deployments${query}`), loadPublication()]);
  context.deployments = list.deployments;
  if (!choose && !select.value) {
    // The page opens on the newest deployment that awaits someone's work.
    const awaiting = [...list.deployments].reverse().find((d) => ["proposed", "authorised", "live", "paused"].includes(d.status));
    choose = awaiting?.deployment_id;
  }
  fillDeploymentSelect(select, list.deployments, { choose });
  context.operations = await fillOperations(context.deployments);
  await showChosen();
}

// The proposal's body: times typed in UK local time sent as UTC instants; the categories ticked.
async function proposalBody(form) {
  const body = await formBody(form);
  for (const input of form.querySelectorAll('[data-kind="ukdatetime"]')) {
    if (!input.value) continue;
    const path = input.name.split(".");
    const parent = path.slice(0, -1).reduce((node, key) => node[key], body);
    parent[path.at(-1)] = fromUkLocal(input.value);
  }
  body.watchlist_categories = [...form.querySelectorAll("[data-choice]:checked")].map((box) => box.value);
  return body;
}

async function recorded(form, reply) {
  toast(`${form.querySelector("button[type=submit]").textContent}: recorded`);
  if (form.id === "enrol") noteEnrolment(reply, form.elements.category.value);
  form.reset();
  fillChoices(); // a reset empties the policy reference the form starts from
  if (form.id === "propose") {
    // The new proposal is the deployment shown, whatever the filter.
    if (onlyProposed) onlyProposed.checked = false;
    await refresh({ choose: reply.id });
    document.getElementById("h-deployment")?.scrollIntoView({ block: "start" });
    select.focus();
    return;
  }
  if (form.id === "operation") {
    context.operations = await fillOperations(context.deployments, { choose: reply.id });
    return;
  }
  if (form.id === "training") await showTraining();
  if (form.id === "governance") suggestReferences(await showRegister());
  if (form.id === "publish") context.published.set(context.deployment.id, new Date().toISOString());
  await refresh();
}

for (const form of document.querySelectorAll("form[data-endpoint]")) {
  bindForm(form, {
    path: () => form.dataset.endpoint.replace("{deployment_id}", select?.value || ""),
    body: form.id === "propose" ? proposalBody : formBody,
    done: (reply) => recorded(form, reply),
  });
}

const closeOperation = document.getElementById("close-operation");
if (closeOperation) {
  bindForm(closeOperation, {
    path: () => `/operations/${document.getElementById("close-operation-id").value}/close`,
    body: async () => ({}),
    done: async () => {
      toast("Operation closed");
      context.operations = await fillOperations(context.deployments);
    },
  });
}

bindComplaints(() => select?.value);
bindDocumentKind();

select?.addEventListener("change", () => {
  hideComplaints();
  showChosen().catch((e) => toast(e.message));
});
onlyProposed?.addEventListener("change", () => {
  hideComplaints();
  refresh().catch((e) => toast(e.message));
});

async function start() {
  await loadPolicy();
  fillChoices();
  document.getElementById("policy").replaceChildren(policySummary());
  const [documents] = await Promise.all([showRegister(), showTraining(), refresh()]);
  suggestReferences(documents);
}
start().catch((e) => toast(e.message));
