// The analyst: an operation's figures and a chart of its deployments; a year's figures and
// their trend month by month; a month's figures; the year's publication records (and their
// CSV). Every number comes from the API's statistics, rounded for people (format.js), and
// every chart has its caption and the same figures as a table beside it.
import { api, clearErrors, el, showProblem, toast } from "./console.js";
import { day, hours, label, month, number, oneIn, percent, plural, timeEl } from "./format.js";
import { chartLibrary, deploymentsChart, trendChart } from "./analyst-charts.js";

const SERIES = [
  ["alerts", "Alerts"],
  ["true_alerts", "True alerts"],
  ["false_alerts", "False alerts"],
  ["arrests", "Arrests"],
  ["compliance_checks", "Compliance checks"],
];
const $ = (id) => document.getElementById(id);

// --- figures for people ------------------------------------------------------------------

const count = (value) => (value === null || value === undefined ? "—" : number(value));
const oneDecimal = (value) => (value === null || value === undefined ? "—" : Number(value).toFixed(1));

// "42 s", "3 min 05 s": a median time to decide or to engage.
function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
}

// Key figures as a laid-out list of name and value, not a dump of the reply's keys.
function keyFigures(items) {
  return el(
    "dl",
    { class: "key-figures" },
    items.map(([name, value, hint]) =>
      el("div", {}, el("dt", { text: name }), el("dd", {}, el("span", { class: "value", text: value }), hint ? el("span", { class: "hint", text: hint }) : null)),
    ),
  );
}

// The figures every scope shares: counts, with rates to one decimal and "1 in N" for how often
// a face seen gave a false alert.
function countFigures(c, { faces, hoursLive, perHour }) {
  return [
    ["Hours live", hours(hoursLive), "h:mm"],
    ["Faces seen", count(faces), faces === null ? "not reported" : null],
    ["Alerts", count(c.alerts)],
    ["True alerts", count(c.true_alerts), "adjudicated a match"],
    ["False alerts", count(c.false_alerts), "adjudicated no match"],
    ["False alerts among faces seen", faces ? oneIn(c.false_alerts, faces) : "—"],
    ["Share of alerts that were false", c.alerts ? percent(c.false_alerts / c.alerts) : "—"],
    ["Arrests", count(c.arrests)],
    ["Compliance checks", count(c.compliance_checks)],
    ["Alerts per hour live", oneDecimal(perHour)],
  ];
}

// A table whose first column names the row: [heading, value of a row, numeric?, class] per
// column (numbers are right-aligned, so their digits line up).
function figuresTable(caption, columns, rows, { footer } = {}) {
  const kind = (numeric, extra) => [numeric ? "num" : "", extra || ""].join(" ").trim() || null;
  const cells = (row) =>
    columns.map(([, value, numeric, extra], i) =>
      el(i === 0 ? "th" : "td", { scope: i === 0 ? "row" : null, class: kind(numeric, extra) }, value(row)),
    );
  return el(
    "table",
    { class: "figures" },
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, columns.map(([heading, , numeric]) => el("th", { scope: "col", class: kind(numeric), text: heading })))),
    el("tbody", {}, rows.map((row) => el("tr", {}, cells(row)))),
    footer ? el("tfoot", {}, el("tr", {}, cells(footer))) : null,
  );
}

// Which answer is the latest asked for, per part of the page: a slow reply to an earlier
// choice never overwrites the figures of the one now chosen.
const turns = {};
const take = (part) => (turns[part] = (turns[part] || 0) + 1);
const current = (part, turn) => turns[part] === turn;

// --- an operation --------------------------------------------------------------------------

function deploymentRows(summary) {
  return summary.by_deployment.map((d) => ({
    ...d,
    place: `${d.location.town}, ${d.location.name}`,
    day: day(d.started_at || d.starts_at),
    label: [`${d.location.town}, ${d.location.name}`, day(d.started_at || d.starts_at)],
  }));
}

async function showOperation(operationId) {
  const turn = take("operation");
  const summary = await api("GET", `/operations/${operationId}/summary`);
  if (!current("operation", turn)) return;
  const days = summary.days.length ? ` (${day(summary.days[0])}${summary.days.length > 1 ? ` to ${day(summary.days.at(-1))}` : ""})` : "";
  $("operation-headline").textContent =
    `${summary.name}, ${label(summary.force)}: ${plural(summary.deployment_count, "deployment")} in ` +
    `${plural(summary.town_count, "town")} on ${plural(summary.day_count, "day")}${days}.`;
  $("operation-figures").replaceChildren(
    keyFigures([
      ...countFigures(summary.totals, {
        faces: summary.totals.faces_processed,
        hoursLive: summary.hours_live,
        perHour: summary.alerts_per_hour,
      }),
      ["Median time to decide an alert", duration(summary.totals.median_adjudication_seconds)],
      ["Deployments on another force's equipment", count(summary.mutual_aid_deployments), "mutual aid"],
    ]),
  );
  const rows = deploymentRows(summary);
  const caption = `${summary.name}: alerts, true and false alerts, arrests and compliance checks, per deployment`;
  $("deployments-caption").textContent = caption;
  $("deployments-chart").setAttribute("aria-label", `${caption}. The same figures are in the table below the chart.`);
  $("deployments-table").replaceChildren(
    rows.length
      ? figuresTable(
          `Per deployment of ${summary.name}`,
          [
            ["Deployment", (r) => r.place],
            ["Day", (r) => r.day, false, "nowrap"],
            ["Hours live", (r) => hours(r.hours_live), true],
            ["Faces seen", (r) => count(r.faces_processed), true],
            ...SERIES.map(([key, name]) => [name, (r) => count(r[key]), true]),
            ["False alerts among faces", (r) => (r.faces_processed ? oneIn(r.false_alerts, r.faces_processed) : "—"), true, "nowrap"],
          ],
          rows,
        )
      : el("p", { class: "empty", text: "This operation has no deployment yet." }),
  );
  $("deployments-box").hidden = !rows.length;
  if (rows.length) await deploymentsChart($("deployments-chart"), rows, SERIES);
}

// --- a year, month by month ----------------------------------------------------------------

const MONTH_SHORT = new Intl.DateTimeFormat("en-GB", { month: "short", timeZone: "UTC" });

// Every month of the year (to this month, for the year under way), with zeros where nothing
// went live: a trend shows the quiet months too.
function monthsOf(year, byMonth) {
  const now = new Date();
  const last = year === now.getUTCFullYear() ? now.getUTCMonth() + 1 : 12;
  const known = Object.fromEntries(byMonth.map((m) => [m.month, m]));
  return Array.from({ length: last }, (_, i) => {
    const key = `${year}-${String(i + 1).padStart(2, "0")}`;
    const figures = known[key] || { deployments: 0, hours_live: 0, alerts: 0, true_alerts: 0, false_alerts: 0, arrests: 0, compliance_checks: 0 };
    return { ...figures, key, short: MONTH_SHORT.format(new Date(Date.UTC(year, i, 1))) };
  });
}

function periodHeadline(name, period) {
  const aid = period.mutual_aid_deployments ? `, ${plural(period.mutual_aid_deployments, "deployment")} on another force's equipment` : "";
  return `${name}: ${plural(period.deployments, "deployment")} of ${plural(period.operations, "operation")}${aid}.`;
}

function periodFigures(period) {
  return keyFigures([
    ["Deployments", count(period.deployments)],
    ...countFigures(period, {
      faces: period.faces_reported_by_matcher,
      hoursLive: period.hours_live,
      perHour: period.alerts_per_hour,
    }),
    ["Arrests per deployment", oneDecimal(period.arrests_per_deployment)],
  ]);
}

async function showYear(year) {
  const turn = take("year");
  const [period, records] = await Promise.all([
    api("GET", `/statistics/period?year=${year}`),
    api("GET", `/publication/deployments?year=${year}`),
  ]);
  if (!current("year", turn)) return;
  $("year-headline").textContent = periodHeadline(String(year), period);
  $("year-figures").replaceChildren(periodFigures(period));
  const months = monthsOf(year, period.by_month);
  const caption = `${year}, month by month: alerts, true and false alerts, arrests and compliance checks of the deployments that went live each month`;
  $("trend-caption").textContent = caption;
  $("trend-chart").setAttribute("aria-label", `${caption}. The same figures are in the table below the chart.`);
  const total = { key: null, deployments: period.deployments, hours_live: period.hours_live, ...Object.fromEntries(SERIES.map(([k]) => [k, period[k]])) };
  $("trend-table").replaceChildren(
    figuresTable(
      `${year} by month`,
      [
        ["Month", (m) => (m.key ? month(m.key) : `All of ${year}`)],
        ["Deployments", (m) => count(m.deployments), true],
        ["Hours live", (m) => hours(m.hours_live), true],
        ...SERIES.map(([key, name]) => [name, (m) => count(m[key]), true]),
      ],
      months,
      { footer: total },
    ),
  );
  await trendChart($("trend-chart"), months, SERIES, year);
  showPublication(year, records);
}

// --- the year's publication records --------------------------------------------------------

function showPublication(year, records) {
  $("publication-year").textContent = String(year);
  const csv = $("csv");
  csv.href = `/publication/deployments.csv?year=${year}`;
  csv.setAttribute("download", `lfr-deployments-${year}.csv`);
  $("publication").replaceChildren(
    records.length
      ? figuresTable(
          `Publication records, ${year}: one per deployment that went live`,
          [
            ["Deployment", (r) => `${r.town}, ${r.location}`],
            ["Day", (r) => day(r.date), false, "nowrap"],
            ["Hours live", (r) => hours(r.hours_live), true],
            ["Faces seen", (r) => count(r.faces_processed), true],
            ["Alerts", (r) => count(r.alerts), true],
            ["True alerts", (r) => count(r.true_alerts), true],
            ["False alerts", (r) => count(r.false_alerts), true],
            ["Arrests", (r) => count(r.arrests), true],
            ["Compliance checks", (r) => count(r.compliance_checks), true],
            ["Threshold", (r) => Number(r.threshold).toFixed(2), true],
            ["Mutual aid", (r) => (r.mutual_aid ? "Yes" : "No")],
          ],
          records,
        )
      : el("p", { class: "empty", text: `No deployment went live in ${year}.` }),
  );
}

// --- a month -------------------------------------------------------------------------------

function reviewsTable(name, reviews) {
  if (!reviews.length) return null;
  return figuresTable(
    `Deployments of ${name} and their reviews`,
    [
      ["Deployment", (r) => r.location],
      ["Went live", (r) => timeEl(r.started_at)],
      ["Reviewed", (r) => (r.reviewed ? "Yes" : "Not yet")],
      ["Objectives", (r) => (r.objectives_met ? label(r.objectives_met) : "—")],
      ["Complaints", (r) => (r.complaints ? `${number(r.complaints)} (${number(r.complaints_resolved)} resolved)` : "None"), true],
    ],
    reviews,
  );
}

const periodForm = $("period-form");
periodForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(periodForm);
  const key = periodForm.elements.month.value;
  const turn = take("month");
  try {
    const reply = await api("GET", `/statistics/period?month=${encodeURIComponent(key)}`);
    if (!current("month", turn)) return;
    const name = month(key);
    $("period").replaceChildren(
      el("p", { class: "headline", text: periodHeadline(name, reply) }),
      periodFigures(reply),
      reviewsTable(name, reply.reviews),
    );
  } catch (error) {
    showProblem(periodForm, error);
  }
});

// --- start ---------------------------------------------------------------------------------

async function start() {
  const missing = chartLibrary().then((Chart) => {
    $("charts-missing").hidden = Boolean(Chart);
    for (const box of document.querySelectorAll(".chart-box")) box.classList.toggle("unavailable", !Chart);
  });
  const { operations } = await api("GET", "/operations");
  operations.reverse(); // the latest first
  const select = $("operation");
  select.replaceChildren(...operations.map((o) => el("option", { value: o.operation_id, text: `${o.name} (${label(o.force)})` })));
  select.addEventListener("change", () => showOperation(select.value).catch((e) => toast(e.message)));

  const thisYear = new Date().getUTCFullYear();
  const first = Math.min(thisYear, ...operations.map((o) => Number(o.opened_at.slice(0, 4))));
  const years = $("year");
  years.replaceChildren(...Array.from({ length: thisYear - first + 1 }, (_, i) => el("option", { text: String(thisYear - i) })));
  years.addEventListener("change", () => showYear(Number(years.value)).catch((e) => toast(e.message)));
  periodForm.elements.month.value = `${thisYear}-${String(new Date().getUTCMonth() + 1).padStart(2, "0")}`;

  await Promise.all([
    select.value ? showOperation(select.value) : null,
    showYear(thisYear),
    missing,
  ]);
  if (!operations.length) $("operation-headline").textContent = "No operation has been recorded yet.";
  document.body.dataset.ready = "1";
}

start().catch((error) => toast(error.message));
