// One match on the officer's phone: who to look for (the enrolled image beside the camera's
// crop, the entry's category, offence and description), where and when, and the forms its
// state calls for: engage, then the outcome, then done (collapsed to one line, expandable).
import { api, el, label } from "./console.js";
import { timeEl } from "./format.js";
import { engagementForm, outcomeForm, perceivedForm } from "./officer-forms.js";

// Every read of a face or of the entry is logged with this purpose, as an operator's are.
export function purpose(alert) {
  return `engaging on alert ${alert.id}`;
}

function noImage(event) {
  const figure = event.target.closest("figure");
  figure?.classList.add("missing");
  event.target.closest("button").replaceWith(el("p", { class: "no-image", text: "No image to show" }));
}

// The two faces side by side; a tap (or Enter) on either shows both full width, and again
// side by side. Nothing is fetched again: each load is a logged consultation.
function faces(alert, camera) {
  const box = el("div", { class: "faces officer-faces" });
  const toggle = () => {
    const large = box.classList.toggle("large");
    for (const button of box.querySelectorAll("button.face")) button.setAttribute("aria-pressed", String(large));
  };
  const face = (src, alt, caption) =>
    el(
      "figure",
      {},
      el("button", { type: "button", class: "face", "aria-pressed": "false", "aria-label": `${caption}: show both faces larger`, onclick: toggle }, el("img", { src, alt, onerror: noImage })),
      el("figcaption", { text: caption }),
    );
  box.append(
    face(`/alerts/${alert.id}/entry/image`, "Enrolled watchlist image of the person to look for", "Enrolled image"),
    face(`/alerts/${alert.id}/face-crop?purpose=${encodeURIComponent(purpose(alert))}`, `Face captured by ${camera}`, "Seen by the camera"),
  );
  return box;
}

function subject(entry) {
  if (!entry) return el("p", { class: "empty", text: "The watchlist entry could not be read." });
  const rows = [
    ["Name", entry.name],
    ["Category", label(entry.category)],
    ["Offence or concern", entry.offence],
    ["Description", entry.description || "None recorded"],
  ];
  if (entry.under_18) rows.push(["Age", "Under 18"]);
  if (entry.entry_status !== "active") rows.push(["Entry", label(entry.entry_status)]);
  return el(
    "dl",
    { class: "facts subject" },
    rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v, class: k === "Description" && !entry.description ? "empty" : null })]),
  );
}

const STATES = {
  engage: ["Not engaged yet", "state-todo"],
  outcome: ["Engaged: record the outcome", "state-doing"],
  done: ["Done", "state-done"],
};

function stateOf(alert) {
  if (alert.engaged === null || alert.engaged === undefined) return "engage";
  return alert.outcomes?.length ? "done" : "outcome";
}

function summaryLine(alert) {
  if (alert.engaged === null || alert.engaged === undefined) return ""; // the badge says it
  const parts = [alert.engaged ? "Engaged" : "Not engaged"];
  if (alert.engaged && alert.confirmed) {
    parts[0] += `, identity ${{ true: "confirmed", false: "not confirmed", unknown: "unknown" }[alert.confirmed]}`;
  }
  if (alert.outcomes?.length) parts.push(`Outcomes: ${alert.outcomes.map(label).join(", ")}`);
  return parts.join(" · ");
}

export class MatchCard {
  constructor(alert, { place, camera }) {
    this.alert = alert;
    this.perceived = false;
    this.loaded = false;
    const cameraName = camera ? `${camera.name} (${alert.camera_id})` : `camera ${alert.camera_id}`;
    this.cameraName = cameraName;
    this.badge = el("span", { class: "state" });
    this.line = el("span", { class: "summary" });
    this.details = el(
      "details",
      { class: "card" },
      el(
        "summary",
        {},
        el("h3", {}, label(alert.category), " ", this.badge),
        el("span", { class: "where" }, `${cameraName} · `, timeEl(alert.captured_at)),
        this.line,
      ),
    );
    this.who = el("div", { class: "who" });
    this.recorded = el("p", { class: "recorded", role: "status" });
    this.place = el("p", { class: "place" }, el("strong", { text: "Where: " }), place ? `${place}, seen by ${cameraName}` : `seen by ${cameraName}`);
    this.decided = el("p", { class: "decided-by" });
    this.engagement = engagementForm(alert, (e) => this.update(e));
    // The stream also brings the new outcome, maybe first: it is added here only if not.
    this.outcome = outcomeForm(alert, (type) => {
      const outcomes = this.alert.outcomes || [];
      if (outcomes.length === this.outcomesAtSubmit) this.update({ outcomes: [...outcomes, type] });
      else this.update({});
    });
    this.outcome.addEventListener("submit", () => (this.outcomesAtSubmit = (this.alert.outcomes || []).length));
    this.perceivedForm = perceivedForm(alert, () => {
      this.perceived = true;
      this.update({});
    });
    this.details.append(this.place, this.who, this.decided, this.recorded, this.engagement, this.outcome, this.perceivedForm);
    this.node = el("article", { class: "alert-card officer-card", "data-alert-id": alert.id, "aria-label": `Match: ${label(alert.category)}` }, this.details);
    // Who to look for is read once the card is open: a done card read from the list, left
    // closed, logs no look at the person's face.
    this.details.addEventListener("toggle", () => this.details.open && this.load());
    // A new card is highlighted until the officer turns to it.
    this.node.addEventListener("focusin", () => this.node.classList.remove("arrived"));
    this.node.addEventListener("pointerdown", () => this.node.classList.remove("arrived"));
    this.update({}, true);
  }

  // Reads the entry and shows both faces (each a logged consultation, "engaging on alert …").
  load() {
    if (this.loaded) return;
    this.loaded = true;
    this.who.replaceChildren(faces(this.alert, this.cameraName), el("p", { class: "keys", text: "Reading the watchlist entry…" }));
    api("GET", `/alerts/${this.alert.id}/entry`)
      .then((entry) => this.who.lastChild.replaceWith(subject(entry)))
      .catch((error) => this.who.lastChild.replaceWith(el("p", { class: "problem", text: `The watchlist entry could not be read: ${error.message}` })));
  }

  // The record of the alert (GET /alerts/{id}): whether perceived characteristics were given.
  knowRecord(events) {
    this.perceived = events.some((e) => String(e.topic).endsWith("DemographicsPerceived"));
    this.update({});
  }

  update(change, first = false) {
    const before = stateOf(this.alert);
    this.alert = { ...this.alert, ...change };
    const alert = this.alert;
    const state = stateOf(alert);
    const [text, css] = STATES[state];
    this.badge.textContent = text;
    this.badge.className = `state ${css}`;
    this.node.dataset.state = state;
    this.line.textContent = summaryLine(alert) + (alert.engaged && !this.perceived ? " · perceived characteristics not recorded" : "");
    this.decided.replaceChildren(`Decided a match by ${alert.adjudicated_by || "an operator"} at `, timeEl(alert.adjudicated_at));
    this.engagement.hidden = state !== "engage";
    this.outcome.hidden = state === "engage";
    this.outcome.querySelector("legend").textContent = state === "done" ? "Add another outcome" : "2. Outcome";
    this.outcome.allow(alert);
    this.perceivedForm.hidden = !alert.engaged || this.perceived;
    // Open while there is something to do; closed once done (the officer may open it again).
    if (first || state !== before) this.details.open = state !== "done";
    if (this.details.open) this.load();
  }
}
