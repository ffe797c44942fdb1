// The closed lists of the policy in force (GET /policy) as choices: <select>s and check boxes
// whose values are the policy's codes and whose words come from the labels table; the open
// operations; and the references of current governance documents as suggestions.
import { api, el } from "./console.js";
import { day, label } from "./format.js";

let policy = null;

export async function loadPolicy() {
  policy = await api("GET", "/policy");
  return policy;
}

// Each list a data-source names: [value, words] pairs.
function source(name, extra = {}) {
  if (!policy) return [];
  switch (name) {
    case "forces":
      return (policy.forces || []).map((f) => [f.code, f.name]);
    case "courses":
      return [...new Set((policy.training || []).map((t) => t.course))].map((c) => [c, label(c)]);
    case "deployment_categories":
      return (extra.deployment?.watchlist_categories || []).map((c) => [c, label(c)]);
    default:
      return (policy[name] || []).map((v) => [v, label(v)]);
  }
}

// Refills a <select> (keeping its first, empty choice and the value chosen, if still offered).
function fillSelect(select, pairs) {
  const placeholder = select.querySelector('option[value=""]');
  const chosen = select.value;
  select.replaceChildren(...(placeholder ? [placeholder] : []), ...pairs.map(([value, text]) => el("option", { value, text })));
  if (pairs.some(([value]) => value === chosen)) select.value = chosen;
}

function fillChecks(fieldset, pairs) {
  const error = fieldset.querySelector(".field-error");
  const checked = new Set([...fieldset.querySelectorAll("input:checked")].map((i) => i.value));
  const boxes = pairs.map(([value, text]) => {
    const id = `${fieldset.id}-${value}`;
    return el(
      "div",
      { class: "field inline" },
      el("input", { id, type: "checkbox", value, "data-choice": "", checked: checked.has(value) }),
      el("label", { for: id, text }),
    );
  });
  fieldset.replaceChildren(fieldset.querySelector("legend"), ...boxes, error);
}

// Every element with a data-source, except those the chosen deployment feeds (`only`).
export function fillChoices({ only, deployment } = {}) {
  for (const node of document.querySelectorAll("[data-source]")) {
    const name = node.dataset.source;
    if (only && name !== only) continue;
    if (!only && name === "deployment_categories") continue;
    const pairs = source(name, { deployment });
    if (node.tagName === "SELECT") fillSelect(node, pairs);
    else fillChecks(node, pairs);
  }
  const policyRef = document.getElementById("propose-policy_ref");
  if (policyRef && !policyRef.value && policy) policyRef.value = policy.version;
}

// The policy in force, readably: its closed lists in words, not a dump of its JSON.
export function policySummary() {
  if (!policy) return el("p", { class: "empty", text: "No policy loaded." });
  const words = (codes) => (codes || []).map(label).join(", ") || "—";
  const pair = (term, value) => [el("dt", { text: term }), el("dd", { text: value })];
  return el(
    "div",
    {},
    el(
      "dl",
      { class: "facts" },
      pair("Version", policy.version),
      pair("Title", policy.title),
      pair("Adopted", policy.adopted ? "yes" : "no: a deployment cannot be proposed until an administrator adopts it"),
      pair("Types of location", words(policy.location_types)),
      pair("Watchlist categories", words(policy.watchlist_categories)),
      pair("Complaint channels", words(policy.complaint_channels)),
      pair("Training required", (policy.training || []).map((t) => `${label(t.course)} to ${t.duty}`).join("; ") || "none"),
    ),
    el(
      "details",
      {},
      el("summary", { text: `Forces in its register (${(policy.forces || []).length})` }),
      el("ul", { class: "columns" }, (policy.forces || []).map((f) => el("li", { text: f.name }))),
    ),
  );
}

const LIVE = ["live", "paused"];

// The operation choices: propose in an open one (newest first, `choose` chosen); close an open
// one none of whose deployments is live or paused (the others are shown, not offered).
export async function fillOperations(deployments, { choose } = {}) {
  const propose = document.getElementById("propose-operation_id");
  const close = document.getElementById("close-operation-id");
  if (!propose && !close) return [];
  const { operations } = await api("GET", "/operations");
  const forces = new Map((policy?.forces || []).map((f) => [f.code, f.name]));
  const open = [...operations].reverse().filter((o) => o.status === "open");
  const text = (o) => `${o.name} · ${forces.get(o.force) || label(o.force)}`;
  if (propose) {
    const previous = choose || propose.value;
    propose.replaceChildren(...open.map((o) => el("option", { value: o.operation_id, text: text(o) })));
    if (open.some((o) => o.operation_id === previous)) propose.value = previous;
    // No open operation: a proposal needs one, so the way to open one is unfolded.
    const panel = document.getElementById("operations-panel");
    if (panel && !open.length) panel.open = true;
  }
  if (close) {
    const running = new Set(deployments.filter((d) => LIVE.includes(d.status)).map((d) => d.operation_id));
    const closable = open.filter((o) => !running.has(o.operation_id));
    close.replaceChildren(
      ...open.map((o) =>
        running.has(o.operation_id)
          ? el("option", { value: o.operation_id, disabled: true, text: `${text(o)} (a deployment of it is running)` })
          : el("option", { value: o.operation_id, text: `${text(o)} · opened ${day(o.opened_at)}` }),
      ),
    );
    if (closable.length) close.value = closable[0].operation_id;
    const form = document.getElementById("close-operation");
    const why = document.getElementById("close-operation-why");
    form.hidden = !closable.length;
    why.hidden = Boolean(closable.length);
    why.textContent = open.length
      ? "Every open operation has a deployment live or paused: end it before closing the operation."
      : "No operation is open.";
  }
  return operations;
}

// References of the current governance documents of each kind, offered where a form cites one.
export function suggestReferences(documents) {
  const lists = { dpia: "current-dpia", eia: "current-eia", appropriate_policy_document: "current-apd", model_evaluation: "current-evaluations" };
  for (const [kind, id] of Object.entries(lists)) {
    const list = document.getElementById(id);
    if (!list) continue;
    const current = documents.filter((d) => d.kind === kind && d.standing === "current");
    list.replaceChildren(...current.map((d) => el("option", { value: d.reference, text: `${d.reference}, version ${d.latest_version}` })));
  }
}
