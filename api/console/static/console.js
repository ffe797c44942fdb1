// What every console page shares: calling the API with the session, forms that record once,
// refusals shown beside the field at fault, and small builders for lists and tables.
// No library: the console must work in a van with no network beyond the ledger.

import { day, label, when } from "./format.js";

export { label, when };

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class Problem extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.problem = problem;
    this.status = status;
  }
}

// Idempotency keys: random, and not crypto.randomUUID, which a plain-HTTP van address lacks.
export function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function api(method, path, { body, purpose, key } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (purpose) headers["X-Purpose"] = purpose;
  if (key) headers["Idempotency-Key"] = key;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new Problem(
      { title: "No connection", detail: "the ledger did not answer; nothing changed on this page. Try again." },
      0,
    );
  }
  const type = response.headers.get("content-type") || "";
  // No session: to the sign-in, unless this is it (its own refusal is shown beside the form).
  if (response.status === 401 && !location.pathname.startsWith("/console/sign-in")) {
    location.assign("/console/sign-in");
  }
  if (!response.ok) {
    const problem = type.includes("json")
      ? await response.json()
      : { title: `HTTP ${response.status}`, detail: response.statusText };
    throw new Problem(problem, response.status);
  }
  return type.includes("json") ? response.json() : response;
}

// --- forms -------------------------------------------------------------------------------

async function fileAsBase64(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

// A datetime-local field's value read as UTC (the forms say so), not as the browser's zone.
export function utc(text) {
  return new Date(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text}Z`).toISOString();
}

function setPath(target, path, value) {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) node = node[part] ??= {};
  node[parts.at(-1)] = value;
}

// The JSON body a form describes: names with dots nest; data-kind says how to read a value.
export async function formBody(form) {
  const body = {};
  for (const input of form.elements) {
    if (!input.name || input.disabled || input.type === "submit") continue;
    const kind = input.dataset.kind || "";
    let value;
    if (input.type === "checkbox") value = input.checked;
    else if (input.type === "radio") {
      if (!input.checked) continue;
      value = input.value;
    } else if (input.type === "file") {
      if (!input.files.length) continue;
      value = await fileAsBase64(input.files[0]);
    } else {
      const text = input.value.trim();
      // An empty "nullable" field says "not known" (e.g. the equipment's owner): null, not absent.
      if (text === "" && kind === "nullable") value = null;
      else if (text === "" && !input.dataset.keepEmpty) continue;
      else if (kind === "number") value = Number(text);
      else if (kind === "bool") value = text === "true";
      else if (kind === "lines") value = text.split(/\n/).map((s) => s.trim()).filter(Boolean);
      else if (kind === "datetime") value = utc(text);
      else if (kind === "cameras") {
        value = text.split(/\n/).map((s) => s.trim()).filter(Boolean).map((line) => {
          const [id, ...name] = line.split(/\s+/);
          return { id, name: name.join(" ") || id };
        });
      } else value = text;
    }
    setPath(body, input.name, value);
  }
  return body;
}

function fieldOf(form, name) {
  return name ? form.querySelector(`[name="${CSS.escape(name)}"]`) : null;
}

export function clearErrors(form) {
  for (const node of form.querySelectorAll(".field-error, .form-error")) node.textContent = "";
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

function markField(input, message) {
  input.setAttribute("aria-invalid", "true");
  const slot = input.closest(".field")?.querySelector(".field-error");
  if (slot) slot.textContent = message;
}

// Which field a refusal is about: the field the validation names ("$.location.name"), else the
// first of the form's fields whose name the domain's sentence uses ("reason", "custody ...").
function faultyField(form, problem) {
  for (const error of problem.errors || []) {
    const named = /`\$\.([\w.]+)`/.exec(error.message || "")?.[1] || error.field;
    const input = fieldOf(form, named);
    if (input) return [input, error.message];
  }
  const detail = (problem.detail || "").toLowerCase();
  for (const input of form.elements) {
    if (!input.name) continue;
    const last = input.name.split(".").at(-1);
    if (detail.includes(last.toLowerCase()) || detail.includes(last.replaceAll("_", " ").toLowerCase())) {
      return [input, problem.detail];
    }
  }
  return [null, null];
}

export function showProblem(form, error) {
  const problem = error instanceof Problem ? error.problem : { title: "Error", detail: String(error) };
  const [input, message] = faultyField(form, problem);
  if (input) markField(input, message);
  const slot = form.querySelector(".form-error");
  if (slot) slot.textContent = `${problem.title}: ${problem.detail}`;
  (input || slot)?.focus?.();
}

// A request that certainly recorded nothing and will not change on a retry: the next attempt
// is a new request and gets a new key. A lost connection, a 5xx, or "key in use" keeps the key,
// so a retry of what may have been recorded is answered with the first reply, not recorded twice.
function settled(error) {
  if (!(error instanceof Problem) || error.status === 0 || error.status >= 500) return false;
  return !String(error.problem.type || "").endsWith("idempotency-key-in-use");
}

export function bindForm(form, { path, method = "POST", body = formBody, done }) {
  form.dataset.key = newKey();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dataset.busy) return; // a second click while the first is in flight does nothing
    form.dataset.busy = "1";
    const buttons = [...form.querySelectorAll("button")];
    for (const button of buttons) button.disabled = true;
    clearErrors(form);
    try {
      const target = typeof path === "function" ? path(form) : path;
      const reply = await api(method, target, { body: await body(form), key: form.dataset.key });
      form.dataset.key = newKey();
      form.dataset.recorded = String(Number(form.dataset.recorded || 0) + 1);
      await done?.(reply, form);
    } catch (error) {
      if (settled(error)) form.dataset.key = newKey();
      showProblem(form, error);
    } finally {
      delete form.dataset.busy;
      for (const button of buttons) button.disabled = false;
    }
  });
}

// --- building the page -------------------------------------------------------------------

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function cell(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.every((v) => typeof v !== "object") ? value.join(", ") : `${value.length} items`;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// A table of rows (objects), with the columns given or every key of the first row.
export function table(rows, columns, { caption } = {}) {
  if (!rows.length) return el("p", { class: "empty", text: "Nothing to show." });
  const keys = columns || Object.keys(rows[0]);
  return el(
    "table",
    {},
    caption ? el("caption", { text: caption }) : null,
    el("thead", {}, el("tr", {}, keys.map((k) => el("th", { scope: "col", text: label(k) })))),
    el("tbody", {}, rows.map((row) => el("tr", {}, keys.map((k) => el("td", { text: cell(row[k]) }))))),
  );
}

// A table that fits its panel or scrolls sideways inside a focusable, labelled box of its own
// (never the page): the one way a console page shows a table wider than a phone.
export function scrollBox(content, name) {
  return el("div", { class: "table-scroll", role: "region", tabindex: "0", "aria-label": name }, content);
}

// Any reply, readably: scalars as a definition list, lists of records as tables.
export function render(value) {
  if (Array.isArray(value)) {
    return value.length && typeof value[0] === "object" ? table(value) : el("p", { text: cell(value) });
  }
  if (value && typeof value === "object") {
    const list = el("dl", { class: "facts" });
    const nested = [];
    for (const [key, item] of Object.entries(value)) {
      if (item && typeof item === "object" && (!Array.isArray(item) || typeof item[0] === "object")) {
        nested.push(el("section", {}, el("h4", { text: label(key) }), render(item)));
      } else list.append(el("dt", { text: label(key) }), el("dd", { text: cell(item) }));
    }
    return el("div", {}, list, nested);
  }
  return el("p", { text: cell(value) });
}

export function toast(message) {
  const node = document.getElementById("toast");
  if (!node) return;
  node.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (node.textContent = ""), 6000);
}

// Fills a <select> with deployments (newest window first), keeping the current choice.
export async function fillDeployments(select, { status, prefer } = {}) {
  const query = status ? `?status=${encodeURIComponent(status)}` : "";
  const list = await api("GET", `/deployments${query}`);
  list.deployments.reverse(); // the latest window first
  const previous = select.value;
  select.replaceChildren(
    ...list.deployments.map((d) =>
      el("option", { value: d.deployment_id, text: `${d.town}, ${d.location_name} · ${day(d.starts_at)} · ${label(d.status)}` }),
    ),
  );
  const preferred = list.deployments.find((d) => prefer && prefer.includes(d.status));
  if (previous && list.deployments.some((d) => d.deployment_id === previous)) select.value = previous;
  else if (preferred) select.value = preferred.deployment_id;
  return list.deployments;
}

document.getElementById("sign-out")?.addEventListener("click", async () => {
  // The server says where to go next: the sign-in, or the OIDC provider's logout.
  let next = "/console/sign-in";
  try {
    const reply = await api("POST", "/console/sign-out");
    if (reply && typeof reply.next === "string") next = reply.next;
  } finally {
    location.assign(next);
  }
});
