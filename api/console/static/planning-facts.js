// The chosen deployment, for the people who plan, authorise and compile it: the list to choose
// from (words and UK days, not slugs and ISO), its facts, and the next step its state awaits.
import { el } from "./console.js";
import { day, label, plural, timeEl } from "./format.js";

// The order of the list: what awaits someone's work first, what is over last.
const ORDER = ["proposed", "authorised", "live", "paused", "ended", "refused"];

export function deploymentOption(d) {
  // Its status is the group's label (and the first fact below): the text fits the column.
  const text = `${d.town}, ${d.location_name} · ${day(d.starts_at)}`;
  return el("option", { value: d.deployment_id, text });
}

// Fills the <select> grouped by status (newest window first in each group), keeps the current
// choice, else takes `choose`, else the first deployment that awaits work.
export function fillDeploymentSelect(select, deployments, { choose } = {}) {
  const previous = choose || select.value;
  const newest = [...deployments].reverse();
  const groups = ORDER.map((status) => [status, newest.filter((d) => d.status === status)]).filter(([, ds]) => ds.length);
  select.replaceChildren(
    ...groups.map(([status, ds]) => el("optgroup", { label: label(status) }, ds.map(deploymentOption))),
  );
  if (previous && deployments.some((d) => d.deployment_id === previous)) select.value = previous;
  return newest;
}

function row(term, ...value) {
  return [el("dt", { text: term }), el("dd", {}, ...value)];
}

function when(iso) {
  return iso ? timeEl(iso) : "—";
}

// What happens next, in one sentence, for whoever is looking.
export function nextStep(d) {
  switch (d.status) {
    case "proposed":
      return "Proposed: awaiting an authorising officer's decision.";
    case "authorised":
      return d.watchlist_reviewed
        ? "Authorised, watchlist reviewed: an operator confirms the signs and starts it on the day."
        : "Authorised: the watchlist is compiled, then reviewed by an authorising officer, before it starts.";
    case "live":
      return "Live now: the watchlist is frozen.";
    case "paused":
      return "Paused: the watchlist is frozen.";
    case "ended":
      return d.post_review_at ? "Ended and reviewed: its results are published once." : "Ended: awaiting its post-deployment review and the publication of its results.";
    case "refused":
      return "Refused: it will not run.";
    default:
      return label(d.status);
  }
}

export function facts(d, operations = []) {
  const operation = operations.find((o) => o.operation_id === d.operation_id);
  const reviewed = d.watchlist_reviewed ? "reviewed" : "not reviewed since the last change";
  const watchlist = d.watchlist_size ? `${plural(d.watchlist_size, "entry", "entries")}, ${reviewed}` : "no entries yet";
  const cameras = d.cameras.map((c) => (c.name && c.name !== c.id ? `${c.id} (${c.name})` : c.id)).join(", ");
  let authority = "not yet";
  if (d.status === "refused") authority = "refused";
  else if (d.authorised_by) authority = [`${d.authorised_by}, `, when(d.authorised_at)];
  const urgent = d.urgent
    ? [d.urgent_confirmed ? "urgent (oral), confirmed in writing" : "urgent (oral), written confirmation due by ", d.urgent_confirmed ? null : when(d.urgent_deadline)]
    : null;
  const list = el(
    "dl",
    { class: "facts" },
    row("Status", el("span", { class: `status-${d.status}`, text: label(d.status) })),
    operation ? row("Operation", operation.name) : [],
    row("Where", `${d.location.name}, ${d.location.town} (${label(d.location.location_type)})`),
    row("Opens", when(d.starts_at)),
    row("Closes", when(d.ends_at)),
    row("Watchlist", watchlist),
    row("Categories", d.watchlist_categories.map(label).join(", ")),
    row(d.cameras.length === 1 ? "Camera" : "Cameras", cameras),
    row("Threshold", String(d.threshold)),
    row("Proposed by", d.proposed_by),
    row("Authority", ...[authority].flat()),
    urgent ? row("Urgent authority", ...urgent.filter(Boolean)) : [],
    row("Signs confirmed", when(d.signage_confirmed_at)),
    d.started_at ? row("Went live", when(d.started_at)) : [],
    d.ended_at ? row("Ended", when(d.ended_at), d.end_reason ? ` (${d.end_reason})` : "") : [],
    d.status === "ended" ? row("Post-deployment review", d.post_review_at ? when(d.post_review_at) : "not yet") : [],
    row("Policy", d.policy_version),
  );
  const cited = d.governance_documents || [];
  return el(
    "div",
    {},
    list,
    cited.length
      ? el(
          "details",
          { class: "cited" },
          el("summary", { text: `Governance documents cited (${cited.length})` }),
          el("ul", {}, cited.map((c) => el("li", { text: `${label(c.kind)} ${c.reference}, version ${c.version}` }))),
        )
      : null,
  );
}
