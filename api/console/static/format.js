// One way to show things on every page: times in UK local time (Europe/London) with the UTC
// instant on hover, the ledger's codes as words (the table api/console/labels.py renders into
// the page), counts with plural agreement, and figures rounded for people.

const LONDON = "Europe/London";
const table = JSON.parse(document.getElementById("labels")?.textContent || "{}");

const dateTime = new Intl.DateTimeFormat("en-GB", {
  timeZone: LONDON, day: "numeric", month: "short", year: "numeric",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZoneName: "short",
});
const dateOnly = new Intl.DateTimeFormat("en-GB", { timeZone: LONDON, day: "numeric", month: "short", year: "numeric" });
const monthOnly = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", month: "short", year: "numeric" });

function parsed(iso) {
  if (iso === null || iso === undefined || iso === "") return null;
  const date = iso instanceof Date ? iso : new Date(typeof iso === "number" ? iso * 1000 : iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

// "7 Dec 2026, 15:32:05 GMT": the one date-time format (BST in summer).
export function when(iso) {
  const date = parsed(iso);
  if (!date) return iso ? String(iso) : "";
  return dateTime.format(date).replace(/ at /, ", ");
}

// "7 Dec 2026": a day, as Europe/London counts it. A plain date ("2026-03-14") is that day.
export function day(iso) {
  if (typeof iso === "string" && /^\d{4}-\d\d-\d\d$/.test(iso)) return dateOnly.format(new Date(`${iso}T12:00:00Z`));
  const date = parsed(iso);
  return date ? dateOnly.format(date) : iso ? String(iso) : "";
}

// "Mar 2026" for a month key "2026-03".
export function month(key) {
  const [year, number] = String(key).split("-").map(Number);
  return year && number ? monthOnly.format(new Date(Date.UTC(year, number - 1, 1))) : String(key);
}

// A <time> element: UK local time on the page, the UTC instant on hover and in `datetime`.
export function timeEl(iso, { dateOnlyText = false } = {}) {
  const date = parsed(iso);
  const node = document.createElement("time");
  if (!date) {
    node.textContent = iso ? String(iso) : "—";
    return node;
  }
  node.dateTime = date.toISOString();
  node.title = `${date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z")} (UTC)`;
  node.textContent = dateOnlyText ? day(date) : when(date);
  return node;
}

// The UTC instant of a datetime-local field's value read as UK local time.
export function fromUkLocal(text) {
  if (/[zZ]|[+-]\d\d:\d\d$/.test(text)) return new Date(text).toISOString();
  const [d, t = "00:00"] = text.split("T");
  const [y, mo, da] = d.split("-").map(Number);
  const [h, mi, s = 0] = t.split(":").map(Number);
  const wall = Date.UTC(y, mo - 1, da, h, mi, s);
  let instant = wall - offsetAt(wall);
  instant = wall - offsetAt(instant); // the offset at the instant itself, across a change
  return new Date(instant).toISOString();
}

// A datetime-local field's value ("2026-03-14T09:00") for an instant, in UK local time.
export function toUkLocal(iso) {
  const date = parsed(iso);
  if (!date) return "";
  return new Date(date.getTime() + offsetAt(date.getTime())).toISOString().slice(0, 16);
}

function offsetAt(ms) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: LONDON, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

// The words for a code: the page's table, else the code read aloud.
export function label(code) {
  if (code === null || code === undefined) return "";
  const key = String(code);
  if (key in table) return table[key];
  const words = key.replace(/\./g, ": ").replace(/_/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// "1 deployment", "3 deployments", "2 people" (plural given when not singular + "s").
export function plural(count, singular, pluralForm = `${singular}s`) {
  return `${number(count)} ${Number(count) === 1 ? singular : pluralForm}`;
}

export function number(value) {
  return Number(value).toLocaleString("en-GB");
}

// Hours as h:mm ("0.5166..." -> "0:31").
export function hours(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  const minutes = Math.round(Number(value) * 60);
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}`;
}

// A fraction as a percentage to one decimal ("0.0123" -> "1.2%").
export function percent(fraction) {
  if (fraction === null || fraction === undefined || Number.isNaN(Number(fraction))) return "—";
  return `${(Number(fraction) * 100).toFixed(1)}%`;
}

// "1 in 3,700": how often something happened among so many (none: "none in 3,700").
export function oneIn(part, whole) {
  if (!whole) return "—";
  if (!part) return `none in ${number(whole)}`;
  return `1 in ${number(Math.round(whole / part))}`;
}

// The first eight characters of an id, the whole of it on hover.
export function shortId(id) {
  const node = document.createElement("span");
  node.className = "id";
  node.title = String(id);
  node.textContent = String(id).slice(0, 8);
  return node;
}
