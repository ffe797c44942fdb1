// The analyst: an operation's figures, a chart per deployment, the publication records (and
// their CSV), and a month's figures. Every number comes from the API's statistics.
import { api, clearErrors, el, render, showProblem, table, toast } from "./console.js";

const SERIES = [
  ["alerts", "Alerts"],
  ["true_alerts", "True alerts"],
  ["false_alerts", "False alerts"],
  ["arrests", "Arrests"],
];

function oneIn(n) {
  return n ? `1 in ${Math.round(n).toLocaleString("en-GB")}` : "none";
}

function figures(totals) {
  return table(
    [
      ["Faces seen", totals.faces_processed.toLocaleString("en-GB")],
      ["Alerts", totals.alerts],
      ["True alerts", totals.true_alerts],
      ["False alerts", totals.false_alerts],
      ["False-alert rate (faces per false alert)", oneIn(totals.false_alerts_one_in_faces)],
      ["Arrests", totals.arrests],
      ["Compliance checks", totals.compliance_checks],
      ["Median adjudication time", totals.median_adjudication_seconds === null ? "—" : `${totals.median_adjudication_seconds} s`],
    ].map(([figure, value]) => ({ figure, value })),
  );
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Grouped bars: one group per deployment, one bar per series. The table below it holds the
// same numbers for anyone who cannot see the chart.
function chart(rows) {
  const width = Math.max(360, rows.length * 150);
  const height = 240;
  const top = Math.max(1, ...rows.flatMap((r) => SERIES.map(([k]) => r[k])));
  const plot = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": "Alerts, true and false alerts and arrests per deployment" });
  const group = width / rows.length;
  const bar = (group - 30) / SERIES.length;
  rows.forEach((row, i) => {
    SERIES.forEach(([key, name], j) => {
      const h = ((height - 50) * row[key]) / top;
      const x = i * group + 15 + j * bar;
      const rect = svg("rect", { x, y: height - 30 - h, width: bar - 2, height: h, class: `s${j}` });
      rect.append(svg("title", {}, `${row.town} ${row.date}: ${name} ${row[key]}`));
      plot.append(rect, svg("text", { x: x + bar / 2 - 4, y: height - 34 - h }, String(row[key])));
    });
    plot.append(svg("text", { x: i * group + 15, y: height - 10 }, `${row.town} ${row.date}`));
  });
  return plot;
}

async function showOperation(operationId) {
  const summary = await api("GET", `/operations/${operationId}/summary`);
  document.getElementById("operation-figures").replaceChildren(
    el("p", { text: `${summary.name}: ${summary.deployment_count} deployments in ${summary.town_count} towns on ${summary.day_count} days` }),
    figures(summary.totals),
  );
}

async function start() {
  const operations = await api("GET", "/operations");
  const select = document.getElementById("operation");
  select.replaceChildren(...operations.operations.map((o) => el("option", { value: o.operation_id, text: `${o.name} (${o.force})` })));
  select.addEventListener("change", () => showOperation(select.value).catch((e) => toast(e.message)));
  if (select.value) await showOperation(select.value);

  const rows = await api("GET", "/publication/deployments");
  document.getElementById("legend").replaceChildren(...SERIES.map(([, name], j) => el("span", {}, el("span", { class: `swatch s${j}` }), name)));
  document.getElementById("chart").replaceChildren(rows.length ? chart(rows) : el("p", { class: "empty", text: "No deployments yet." }));
  document.getElementById("publication").replaceChildren(
    table(rows, ["date", "town", "location", "faces_processed", "alerts", "true_alerts", "false_alerts", "arrests", "compliance_checks", "hours_live", "threshold", "mutual_aid"]),
  );
}

const periodForm = document.getElementById("period-form");
periodForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(periodForm);
  try {
    const reply = await api("GET", `/statistics/period?month=${periodForm.elements.month.value}`);
    document.getElementById("period").replaceChildren(render(reply));
  } catch (error) {
    showProblem(periodForm, error);
  }
});

start().catch((error) => toast(error.message));
