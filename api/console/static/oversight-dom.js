// What the oversight page's reports share: tables whose cells may be elements (a <time>, a
// short id), kept inside their own scrolling box, and the log's codes said in words.
import { el, label, scrollBox } from "./console.js";
import { shortId } from "./format.js";

// A table of rows, each cell a string, a number or a Node; columns: [[key, heading], ...].
// The box scrolls on its own (and is focusable, so a keyboard can scroll it), never the page.
export function grid(rows, columns, { caption, empty = "Nothing to show." } = {}) {
  if (!rows.length) return el("p", { class: "empty", text: empty });
  const body = rows.map((row) =>
    el("tr", {}, columns.map(([key]) => el("td", { class: `c-${key}` }, cellOf(row[key])))),
  );
  const table = el(
    "table",
    {},
    caption ? el("caption", { text: caption }) : null,
    el("thead", {}, el("tr", {}, columns.map(([key, heading]) => el("th", { scope: "col", class: `c-${key}`, text: heading })))),
    el("tbody", {}, body),
  );
  return scrollBox(table, caption || "Table");
}

function cellOf(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (value instanceof Node) return value;
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (Array.isArray(value)) return value.length ? value.map(String).join(", ") : "—";
  return String(value);
}

// A definition list of [term, value] pairs; a value may be a Node or a list of them.
export function facts(pairs, className = "facts") {
  const list = el("dl", { class: className });
  for (const [term, value] of pairs) {
    if (value === undefined) continue;
    list.append(el("dt", { text: term }), el("dd", {}, Array.isArray(value) ? value : cellOf(value)));
  }
  return list;
}

// "subject_access:7cf5…" -> "Subject access 7cf5924e" (the whole id on hover).
const RECORD_WORDS = {
  alert_timeline: "Timeline of alert",
  deployment_alerts: "Alerts of deployment",
  alert_stream: "Alert stream of deployment",
  alert_face_crop: "Face crop of alert",
  deployment_watchlist: "Watchlist of deployment",
  watchlist_entry: "Watchlist entry",
  watchlist_image: "Enrolled image of entry",
  watchlist_templates: "Watchlist templates of deployment",
  deployment_history: "History of deployment",
  subject_access: "Subject access search, digest",
  equality: "Equality report",
  equality_trend: "Equality trend",
  oversight_bundle: "Evidence bundle of deployment",
  deployment_complaints: "Complaints of deployment",
  deployment: "Deployment",
};

export function recordText(record) {
  if (!record || record === "[erased]") return record || "—";
  const at = record.indexOf(":");
  if (at < 0) return label(record);
  const kind = record.slice(0, at);
  const id = record.slice(at + 1);
  const words = RECORD_WORDS[kind] || label(kind);
  if (id === "all") return `${words}, every deployment`;
  return el("span", {}, `${words} `, id.length > 12 ? shortId(id) : id);
}

// "OV-0001, for the ICO" / "PC-3381 (Operator)".
export function who(id, { role, body } = {}) {
  const parts = [id];
  if (role) parts.push(` (${label(role)})`);
  if (body) parts.push(`, for ${body}`);
  return parts.join("");
}

// A CamelCase event name in words: "WatchlistEntryAdded" -> "Watchlist entry added".
export function camelWords(name) {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// A similarity or threshold as people read it: "0.80".
export function score(value) {
  return value === null || value === undefined ? "—" : Number(value).toFixed(2);
}
