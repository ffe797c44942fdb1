// The officer's three forms on an alert card: the engagement (with its start and end, in UK
// time), the outcome (only the fields its type needs), and the perceived characteristics that
// feed the equality report. Each says what it recorded inside the card, where the officer is
// looking, never in a toast over the next button.
import { api, bindForm, el, formBody, label } from "./console.js";
import { factorPicker, showWhen, withFactors } from "./factors.js";
import { fromUkLocal, toUkLocal } from "./format.js";

// Outcome types in the order an officer meets them; which need the person engaged on a match,
// and which follow an arrest or a voluntary attendance (domain/alert/outcome.py).
const OUTCOMES = [
  "arrest",
  "compliance_check",
  "words_of_advice",
  "safeguarding",
  "voluntary_attendance",
  "charge",
  "bail",
  "no_further_action",
  "not_located",
  "other",
];
const NEEDS_ENGAGED = new Set(["arrest", "compliance_check", "safeguarding", "voluntary_attendance", "charge", "bail"]);
const FOLLOWS = new Set(["charge", "bail"]);
const OPENS = new Set(["arrest", "voluntary_attendance"]);

// For each type: the fields shown, with the label each takes for it ("" keeps the default).
const FIELDS = {
  arrest: { offences: "Offences (one per line)", custody_ref: "", crime_ref: "", note: "Note (optional)" },
  charge: { offences: "Offences charged (one per line)", custody_ref: "", crime_ref: "", note: "Note (optional)" },
  bail: { offences: "In connection with (offences, one per line)", conditions: "Bail conditions (one per line, if any)", due_at: "Answer bail at (UK time)", custody_ref: "", crime_ref: "", note: "Note (optional)" },
  voluntary_attendance: { offences: "In connection with (offences, one per line)", due_at: "Attend the interview at (UK time)", crime_ref: "", note: "Note (optional)" },
  compliance_check: { conditions: "Conditions checked (one per line)", result: "", note: "Note (optional)" },
  safeguarding: { note: "What was done (referral made, to whom)" },
  other: { note: "What happened" },
  words_of_advice: { note: "Note (optional)" },
  no_further_action: { note: "Note (optional)" },
  not_located: { note: "Note (optional)" },
};

let policy = null;
function policyInForce() {
  policy ??= api("GET", "/policy");
  return policy;
}

function field(id, text, control, hint) {
  if (hint) control.setAttribute("aria-describedby", `${id}-hint`);
  return el(
    "div",
    { class: "field", "data-field": control.name },
    el("label", { for: id, text }),
    hint ? el("span", { class: "keys", id: `${id}-hint`, text: hint }) : null,
    control,
    el("p", { class: "field-error" }),
  );
}

// A datetime-local field read as UK local time; `now` names a button that fills in the time
// now ("Started now"), for a time the officer records as it happens.
function ukTime(id, name, text, { hint, now } = {}) {
  const input = el("input", { id, name, type: "datetime-local", "data-kind": "uk-time" });
  const box = field(id, text, input, hint);
  box.classList.add("uk-time");
  if (now) {
    const button = el("button", { type: "button", class: "quiet now", text: now, onclick: () => (input.value = toUkLocal(new Date())) });
    box.insertBefore(el("div", { class: "time-row" }, input, button), box.querySelector(".field-error"));
  }
  return box;
}

// The body a form describes, its UK-time fields turned into UTC instants.
async function ukBody(form) {
  const body = await formBody(form);
  for (const input of form.querySelectorAll('[data-kind="uk-time"]')) {
    if (input.name in body) body[input.name] = fromUkLocal(body[input.name]);
  }
  return body;
}

function said(form, text) {
  const card = form.closest(".alert-card");
  const slot = card?.querySelector(".recorded");
  if (slot) slot.textContent = text;
}

function errorAndSubmit(text) {
  return [el("p", { class: "form-error", role: "alert" }), el("button", { type: "submit", class: "primary", text })];
}

export function engagementForm(alert, onRecorded) {
  const id = alert.id;
  const confirmed = el(
    "select",
    { id: `confirmed-${id}`, name: "confirmed", required: true },
    el("option", { value: "", text: "Choose…" }),
    el("option", { value: "true", text: "Confirmed" }),
    el("option", { value: "false", text: "Not confirmed (not the person)" }),
    el("option", { value: "unknown", text: "Unknown" }),
  );
  const form = el(
    "form",
    { class: "engagement", "aria-label": "Engagement" },
    el(
      "fieldset",
      {},
      el("legend", { text: "1. Engage" }),
      el("label", { class: "field inline" }, el("input", { type: "checkbox", name: "engaged", checked: true }), "I engaged the person"),
      field(`confirmed-${id}`, "Identity confirmed", confirmed),
      ukTime(`engaged-from-${id}`, "engaged_from", "Engaged from (UK time)", { hint: "With the end, or neither", now: "Started now" }),
      ukTime(`engaged-until-${id}`, "engaged_until", "Engaged until (UK time)", { now: "Ended now" }),
      factorPicker(`factors-${id}`, "Why the alert was false"),
      ...errorAndSubmit("Record engagement"),
    ),
  );
  const engaged = form.elements.engaged;
  const update = () => {
    // Not engaged: the identity stays unknown and there is no time with the person to give.
    for (const box of form.querySelectorAll('[data-field="confirmed"], .uk-time')) {
      box.hidden = !engaged.checked;
      for (const input of box.querySelectorAll("input, select")) input.disabled = !engaged.checked;
    }
  };
  form.addEventListener("change", update);
  update();
  showWhen(form, form.querySelector(".factors"), () => engaged.checked && confirmed.value === "false")();
  bindForm(form, {
    path: `/alerts/${id}/engagement`,
    body: async (f) => {
      const body = await withFactors(f);
      const times = await ukBody(f);
      if (!engaged.checked) body.confirmed = "unknown";
      for (const name of ["engaged_from", "engaged_until"]) if (name in times) body[name] = times[name];
      return body;
    },
    done: () => {
      said(form, "Engagement recorded.");
      onRecorded?.({ engaged: engaged.checked, confirmed: engaged.checked ? confirmed.value : "unknown" });
    },
  });
  return form;
}

function outcomeFields(id) {
  const lines = (name, rows = 2) => el("textarea", { id: `${name}-${id}`, name, "data-kind": "lines", rows });
  return [
    field(`offences-${id}`, "Offences (one per line)", lines("offences")),
    field(`conditions-${id}`, "Conditions (one per line)", lines("conditions")),
    field(
      `result-${id}`,
      "Compliance result",
      el("select", { id: `result-${id}`, name: "result" }, el("option", { value: "", text: "Choose…" }), el("option", { value: "complied", text: "Complied" }), el("option", { value: "breach", text: "Breach" })),
    ),
    ukTime(`due-at-${id}`, "due_at", "Due at (UK time)"),
    field(`custody-ref-${id}`, "Custody reference (if any)", el("input", { id: `custody-ref-${id}`, name: "custody_ref", maxlength: 200, autocomplete: "off" })),
    field(`crime-ref-${id}`, "Crime reference (if any)", el("input", { id: `crime-ref-${id}`, name: "crime_ref", maxlength: 200, autocomplete: "off" })),
    field(`note-${id}`, "Note", el("textarea", { id: `note-${id}`, name: "note", rows: 2, maxlength: 2000 })),
  ];
}

export function outcomeForm(alert, onRecorded) {
  const id = alert.id;
  const type = el("select", { id: `type-${id}`, name: "type", required: true });
  const form = el(
    "form",
    { class: "outcome", "aria-label": "Outcome" },
    el("fieldset", {}, el("legend", { text: "2. Outcome" }), field(`type-${id}`, "What happened", type), ...outcomeFields(id), ...errorAndSubmit("Record outcome")),
  );
  const defaults = new Map([...form.querySelectorAll("[data-field]")].map((box) => [box.dataset.field, box.querySelector("label").textContent]));
  // Only the fields the chosen type takes are shown, labelled for it, and sent.
  const switchFields = () => {
    const wanted = FIELDS[type.value] || {};
    for (const box of form.querySelectorAll("[data-field]")) {
      const name = box.dataset.field;
      if (name === "type") continue;
      const shown = name in wanted;
      box.hidden = !shown;
      for (const input of box.querySelectorAll("input, select, textarea")) input.disabled = !shown;
      box.querySelector("label").textContent = (shown && wanted[name]) || defaults.get(name);
    }
  };
  type.addEventListener("change", switchFields);
  form.addEventListener("reset", () => setTimeout(switchFields));
  // The types the alert's state allows: with the person engaged, or not; a charge or a bail
  // only after an arrest or a voluntary attendance.
  form.allow = ({ engaged, outcomes = [] }) => {
    const opened = outcomes.some((o) => OPENS.has(o));
    const allowed = OUTCOMES.filter((t) => (engaged || !NEEDS_ENGAGED.has(t)) && (opened || !FOLLOWS.has(t)));
    const chosen = type.value;
    type.replaceChildren(el("option", { value: "", text: "Choose…" }), ...allowed.map((t) => el("option", { value: t, text: label(t) })));
    type.value = allowed.includes(chosen) ? chosen : "";
    switchFields();
  };
  form.allow({ engaged: alert.engaged, outcomes: alert.outcomes });
  bindForm(form, {
    path: `/alerts/${id}/outcomes`,
    body: ukBody,
    done: () => {
      said(form, `Outcome recorded: ${label(type.value)}.`);
      const recorded = type.value;
      form.reset();
      onRecorded?.(recorded);
    },
  });
  return form;
}

export function perceivedForm(alert, onRecorded) {
  const id = alert.id;
  const fields = el("div", { class: "perceived-fields" });
  const form = el(
    "form",
    { class: "perceived", "aria-label": "Perceived characteristics" },
    el(
      "fieldset",
      { "aria-describedby": `perceived-hint-${id}` },
      el("legend", { text: "3. Perceived characteristics" }),
      el("p", { class: "keys", id: `perceived-hint-${id}`, text: "What you perceived, for equality monitoring only: do not ask the person. Leave out what you did not note." }),
      fields,
      ...errorAndSubmit("Record perceived characteristics"),
    ),
  );
  policyInForce()
    .then((p) => {
      for (const [name, values] of Object.entries(p.equality_fields || {})) {
        const select = el("select", { id: `${name}-${id}`, name: `fields.${name}` }, el("option", { value: "", text: "—" }), ...values.map((v) => el("option", { value: v, text: label(v) })));
        fields.append(field(`${name}-${id}`, label(name), select));
      }
    })
    .catch(() => fields.append(el("p", { class: "empty", text: "The policy's lists could not be read" })));
  bindForm(form, {
    path: `/alerts/${id}/perceived-characteristics`,
    body: async (f) => {
      const body = await formBody(f);
      return { fields: body.fields || {} };
    },
    done: () => {
      said(form, "Perceived characteristics recorded.");
      onRecorded?.();
    },
  });
  return form;
}
