// The analyst's charts: Chart.js 4.5.1, fetched and checked at set-up (`make setup`, see
// api/console/assets.py) and served by the ledger itself at /console/vendor/chart.umd.js, so
// the page loads nothing from anywhere else. Without it the page keeps its tables (the same
// figures) and says that charts need `make setup`.

const LIBRARY = "/console/vendor/chart.umd.js";
let loading = null;

// Chart.js's global, or null when the server does not have it.
export function chartLibrary() {
  if (window.Chart) return Promise.resolve(window.Chart);
  loading ??= new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = LIBRARY;
    script.addEventListener("load", () => resolve(window.Chart || null));
    script.addEventListener("error", () => resolve(null));
    document.head.append(script);
  });
  return loading;
}

// The console's palette (base.css's accent first), each at least 3:1 on white; the series are
// in the same order in every chart, its legend and its table.
const COLOURS = ["#0b4f9c", "#0a7d3e", "#b3261e", "#6b3fa0", "#8a5a00"];

function styled(Chart) {
  const page = getComputedStyle(document.body);
  Chart.defaults.font.family = page.fontFamily;
  Chart.defaults.font.size = 14;
  Chart.defaults.color = "#3d3d3d"; // --muted: 10:1 on white
  Chart.defaults.animation = false; // figures, not a show; and nothing moves for those who asked
  Chart.defaults.plugins.legend.labels.boxWidth = 14;
  return Chart;
}

function draw(Chart, canvas, config) {
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, config);
}

// The count axis: whole numbers only (half an alert means nothing), from zero.
function countAxis(title) {
  return { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: title } };
}

// One row per deployment, one bar per series: horizontal, so each deployment's two-line label
// (place; day) has a row of its own and no label can overlap another, however many there are.
// The box grows with the rows, set from here (the CSP allows no style attribute in markup).
export async function deploymentsChart(canvas, rows, series) {
  const Chart = await chartLibrary();
  if (!Chart) return null;
  canvas.parentElement.style.height = `${Math.max(220, 90 + rows.length * (28 + 16 * series.length))}px`;
  return draw(styled(Chart), canvas, {
    type: "bar",
    data: {
      labels: rows.map((row) => row.label),
      datasets: series.map(([key, name], i) => ({
        label: name,
        data: rows.map((row) => row[key]),
        backgroundColor: COLOURS[i],
        borderColor: COLOURS[i],
      })),
    },
    options: {
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: countAxis("Count"), y: { ticks: { autoSkip: false } } },
      plugins: { legend: { position: "top" } },
    },
  });
}

// Month by month: a group of bars per month of the year (bars, not lines: two series with the
// same figures, as alerts and true alerts often are, would hide one line under the other).
// Labels "Mar", never rotated (Chart.js skips some rather than overlap them on a narrow
// screen); the axis title says the year.
export async function trendChart(canvas, months, series, year) {
  const Chart = await chartLibrary();
  if (!Chart) return null;
  return draw(styled(Chart), canvas, {
    type: "bar",
    data: {
      labels: months.map((m) => m.short),
      datasets: series.map(([key, name], i) => ({
        label: name,
        data: months.map((m) => m[key]),
        backgroundColor: COLOURS[i],
        borderColor: COLOURS[i],
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: { ticks: { maxRotation: 0 }, title: { display: true, text: String(year) } },
        y: countAxis("Count"),
      },
      plugins: { legend: { position: "top" } },
    },
  });
}
