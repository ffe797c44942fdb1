// Planner, authorising officer, watchlist manager (and the administrator's policy): each form
// posts to the route its data-endpoint names, for the deployment chosen at the top.
import { api, bindForm, el, fillDeployments, render, table, toast, when } from "./console.js";

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
      end_reason: d.end_reason,
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
  const head = ["category", "status", "under 18", "image", "enrolled", ""];
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
  const operations = document.getElementById("propose-operation_id");
  if (operations) {
    const list = await api("GET", "/operations");
    operations.replaceChildren(...list.operations.reverse().map((o) => el("option", { value: o.operation_id, text: `${o.name} (${o.force})` })));
  }
}

select?.addEventListener("change", () => Promise.all([showDeployment(), showWatchlist()]).catch((e) => toast(e.message)));
document.getElementById("show-proposed")?.addEventListener("click", (event) => {
  event.preventDefault();
  refresh("proposed").catch((e) => toast(e.message));
});
Promise.all([fillChoices(), role === "admin" ? null : refresh()]).catch((e) => toast(e.message));
