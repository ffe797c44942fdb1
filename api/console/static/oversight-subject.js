// Subject access and equality, laid out for reading: a card per watchlist entry found and,
// inside it, a card per alert on that entry. Everything shown is GET /subject-access's reply,
// which the API logged as a consultation with the purpose given; nothing else is read here.
import { el, label } from "./console.js";
import { percent, plural, shortId, timeEl } from "./format.js";
import { facts, grid, score } from "./oversight-dom.js";

const CONFIRMED = { true: "Identity confirmed", false: "Identity not confirmed", unknown: "Identity not established" };
const IMAGE = { held: "Held", none: "None was sent", erased: "Erased", "[erased]": "Erased" };

function erased(value) {
  return value === "[erased]" ? el("span", { class: "erased", text: "Erased" }) : value;
}

function alertCard(a) {
  const engaged = a.engaged === null || a.engaged === undefined ? "Not recorded" : a.engaged ? "Yes" : "No";
  return el(
    "article",
    { class: "finding alert-finding", "aria-label": `Alert ${a.alert_id.slice(0, 8)}` },
    el("h4", {}, "Alert at ", timeEl(a.captured_at), ` · camera ${a.camera_id}`),
    facts([
      ["Similarity", `${score(a.similarity)} (threshold ${score(a.threshold)})`],
      ["Operator's decision", a.decision ? label(a.decision) : "Not decided"],
      ["Engaged", engaged],
      ["Identity", a.confirmed ? CONFIRMED[a.confirmed] || label(a.confirmed) : "Not recorded"],
      ["Outcomes", a.outcomes.length ? a.outcomes.map(label).join(", ") : "None recorded"],
      ["Closed", a.closed],
      ["Legal hold", a.legal_hold],
      ["Face crop", IMAGE[a.image] || label(a.image)],
      ["Alert", [shortId(a.alert_id)]],
    ]),
  );
}

function entryCard(e) {
  const heading = e.name === "[erased]" ? "Name erased" : e.name;
  const destroyed = e.destroyed_at ? [timeEl(e.destroyed_at), e.destruction_rule ? ` (${label(e.destruction_rule)})` : ""] : "No";
  return el(
    "article",
    { class: "finding entry-finding" },
    el("h3", {}, heading, " ", el("span", { class: "sub", text: `· ${e.subject_ref === "[erased]" ? "reference erased" : e.subject_ref}` })),
    el("p", { class: "where" }, `${e.location} · `, timeEl(e.window_start), " to ", timeEl(e.window_end), ` · deployment ${label(e.deployment_status).toLowerCase()}`),
    facts([
      ["Category", label(e.category)],
      ["Entry status", label(e.status)],
      ["Enrolled", [timeEl(e.enrolled_at)]],
      ["Legal basis", erased(e.legal_basis)],
      ["Offence or concern", erased(e.offence)],
      ["Why enrolled", erased(e.rationale)],
      ["Image source", erased(e.image_source)],
      ["Enrolled image", e.image === "none" ? "None enrolled" : IMAGE[e.image] || label(e.image)],
      ["Destroyed", destroyed],
      ["Entry", [shortId(e.entry_id)]],
      ["Deployment", [shortId(e.deployment_id)]],
    ]),
    el(
      "div",
      { class: "entry-alerts" },
      el("h4", { class: "alerts-heading", text: e.alerts.length ? `${plural(e.alerts.length, "alert")} on this entry` : "No alert on this entry" }),
      e.alerts.length ? el("div", { class: "alert-findings" }, e.alerts.map(alertCard)) : null,
    ),
  );
}

export function subjectAccess(reply) {
  const alerts = reply.entries.reduce((n, e) => n + e.alerts.length, 0);
  const found = reply.on_watchlist
    ? `On ${plural(reply.entries.length, "watchlist entry", "watchlist entries")}, in ${plural(alerts, "alert")}`
    : "Not on any watchlist, and in no alert";
  return el(
    "div",
    { class: "subject-report" },
    el(
      "p",
      { class: "summary-line", id: "subject-summary" },
      el("strong", { text: found }),
      " between ", timeEl(reply.period_start), " and ", timeEl(reply.period_end),
      ". Answered ", timeEl(reply.answered_at), "; searched by the reference's digest ", shortId(reply.subject_digest), ".",
      reply.remit ? ` Held to the remit of ${reply.remit}: entries of deployments outside it are left out.` : "",
    ),
    reply.entries.length ? el("div", { class: "entry-findings" }, reply.entries.map(entryCard)) : null,
  );
}

// The oversight body's unsuppressed view: every count, and the false-alert rate's 95% interval.
export function equality(reply) {
  const intro = el(
    "p",
    { class: "summary-line" },
    `${plural(reply.alerts_with_characteristics ?? 0, "alert")} with perceived characteristics recorded`,
    reply.deployment_id ? [" in deployment ", shortId(reply.deployment_id)] : " across every deployment",
    `. Analysts see cells under ${reply.minimum_cell_size} suppressed; this view shows every count.`,
  );
  const tables = reply.tables.map((t) =>
    grid(
      t.groups.map((g) => ({
        group: label(g.value),
        alerts: g.alerts ?? "—",
        engagements: g.engagements ?? "—",
        true_alerts: g.true_alerts ?? "—",
        false_alerts: g.false_alerts ?? "—",
        rate: g.false_alert_rate === null ? "—" : percent(g.false_alert_rate),
        ci: g.ci_low === null ? "—" : `${percent(g.ci_low)} to ${percent(g.ci_high)}`,
      })),
      [["group", "Group"], ["alerts", "Alerts"], ["engagements", "Engaged"], ["true_alerts", "Confirmed"], ["false_alerts", "Refuted"], ["rate", "False-alert rate"], ["ci", "95% interval"]],
      { caption: `${label(t.field)} (${plural(t.total_alerts ?? 0, "alert")})` },
    ),
  );
  return el("div", {}, intro, tables);
}
