// The deployment's watchlist for its reviewer and its compiler: rows without personal data in a
// table that scrolls within its own frame (never the page); an entry opens on request, which is
// a logged read of personal data.
import { api, bindForm, el, scrollBox, toast } from "./console.js";
import { day, label, plural, shortId, timeEl } from "./format.js";

let calls = 0;

function grid(head, rows) {
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c ?? "—"))))),
  );
}

export { grid };

export async function showWatchlist(deploymentId, { onChange }) {
  const slot = document.getElementById("watchlist");
  const call = ++calls;
  if (!slot) return;
  if (!deploymentId) return slot.replaceChildren(el("p", { class: "empty", text: "No deployment yet." }));
  const list = await api("GET", `/deployments/${deploymentId}/watchlist`);
  if (call !== calls) return;
  document.getElementById("entry").replaceChildren();
  if (!list.entries.length) return slot.replaceChildren(el("p", { class: "empty", text: "No entries yet." }));
  // The button first: however narrow the screen, the way into an entry is never off its edge.
  const head = ["Entry", "Category", "Status", "Under 18", "Image", "Enrolled", "Last confirmed"];
  const rows = list.entries.map((e) => [
    el("button", {
      type: "button",
      text: "Open entry",
      onclick: () => openEntry(deploymentId, e.id, onChange).catch((x) => toast(x.message)),
    }),
    label(e.category),
    label(e.status),
    e.under_18 ? "yes" : "no",
    e.has_image ? "yes" : "no",
    el("span", {}, timeEl(e.enrolled_at), ` by ${e.enrolled_by}`),
    e.confirmed_at ? timeEl(e.confirmed_at) : "—",
  ]);
  const summary = `${plural(list.entries.length, "entry", "entries")}; ${list.reviewed ? "reviewed" : "not reviewed since the last change"}`;
  slot.replaceChildren(el("p", { text: summary }), scrollBox(grid(head, rows), "The deployment's watchlist"));
}

// An entry's own fields: codes as words, days and instants in UK time.
function entryFacts(entry) {
  const list = el("dl", { class: "facts" });
  for (const [key, value] of Object.entries(entry)) {
    if (value === null || value === undefined || key === "id" || typeof value === "object") continue;
    let shown = String(value);
    if (typeof value === "boolean") shown = value ? "yes" : "no";
    else if (/_at$/.test(key)) shown = timeEl(value);
    else if (/_on$/.test(key)) shown = day(value);
    else if (["category", "status"].includes(key)) shown = label(value);
    list.append(el("dt", { text: label(key) }), el("dd", {}, shown));
  }
  return list;
}

async function openEntry(deploymentId, entryId, onChange) {
  const purpose = `reviewing the watchlist of deployment ${deploymentId}`;
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
      await onChange();
    },
  });
  const image = entry.has_image
    ? el("img", { class: "enrolled", src: `/watchlist/entries/${entryId}/image?purpose=${encodeURIComponent(purpose)}`, alt: "Enrolled image" })
    : el("p", { class: "empty", text: "No image held" });
  const slot = document.getElementById("entry");
  slot.replaceChildren(
    el("h3", { tabindex: "-1", text: `Entry ${entry.subject_ref || entryId.slice(0, 8)}` }),
    el("div", { class: "entry" }, el("div", { class: "faces" }, image), entryFacts(entry)),
    entry.status === "active" ? withdraw : null,
  );
  slot.querySelector("h3").focus();
}

// What this person enrolled since the page opened (the reply holds no personal data).
const enrolled = [];

export function noteEnrolment(reply, category) {
  enrolled.unshift([shortId(reply.id), label(category), label(reply.status)]);
  const slot = document.getElementById("enrolled");
  slot?.replaceChildren(grid(["Entry", "Category", "Status"], enrolled));
}
