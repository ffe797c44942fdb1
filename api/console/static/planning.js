// Planner, authorising officer, watchlist manager (and the administrator's policy): each form
// posts to the route its data-endpoint names, for the deployment chosen at the top.
import { api, bindForm, el, fillDeployments, render, table, toast, when } from "./console.js";

const select = document.getElementById("deployment");
const role = document.body.dataset.role;

async function showDeployment() {
  const facts = document.getElementById("deployment-facts");
  if (!select?.value) return facts?.replaceChildren(el("p", { class: "empty", text: "No deployment yet." }));
  const d = await api("GET", `/deployments/${select.value}`);
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

async function refresh(status) {
  if (!select) return;
  await fillDeployments(select, { status, prefer: ["proposed", "authorised", "live"] });
  await showDeployment();
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

select?.addEventListener("change", () => showDeployment().catch((e) => toast(e.message)));
document.getElementById("show-proposed")?.addEventListener("click", (event) => {
  event.preventDefault();
  refresh("proposed").catch((e) => toast(e.message));
});
Promise.all([fillChoices(), role === "admin" ? null : refresh()]).catch((e) => toast(e.message));
