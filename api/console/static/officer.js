// The officer on the street, on a phone: alerts the operator decided were a match; record the
// engagement and what happened.
import { AlertFeed } from "./alerts.js";
import { api, bindForm, el, fillDeployments, toast, when } from "./console.js";
import { factorPicker, showWhen, withFactors } from "./factors.js";

const select = document.getElementById("deployment");
const matches = document.getElementById("matches");

const OUTCOMES = [
  ["arrest", "Arrest"],
  ["compliance_check", "Compliance check"],
  ["words_of_advice", "Words of advice"],
  ["no_further_action", "No further action"],
  ["not_located", "Not located"],
  ["safeguarding", "Safeguarding"],
  ["voluntary_attendance", "Voluntary attendance (interview by appointment)"],
  ["charge", "Charge (after an arrest or a voluntary attendance)"],
  ["bail", "Bail (after an arrest or a voluntary attendance)"],
  ["other", "Other"],
];

function field(id, text, control, hint) {
  return el(
    "div",
    { class: "field" },
    el("label", { for: id, text }),
    hint ? el("span", { class: "keys", id: `${id}-hint`, text: hint }) : null,
    control,
    el("p", { class: "field-error" }),
  );
}

function engagementForm(alert) {
  const id = alert.id;
  const form = el(
    "form",
    { "aria-label": `Engagement for alert ${id}` },
    el(
      "fieldset",
      {},
      el("legend", { text: "Engagement" }),
      el("label", { class: "field inline" }, el("input", { type: "checkbox", name: "engaged", checked: true }), "Engaged the person"),
      field(
        `confirmed-${id}`,
        "Identity confirmed",
        el(
          "select",
          { id: `confirmed-${id}`, name: "confirmed" },
          el("option", { value: "true", text: "Confirmed" }),
          el("option", { value: "false", text: "Not confirmed" }),
          el("option", { value: "unknown", text: "Unknown" }),
        ),
      ),
      field(`engaged-from-${id}`, "Engaged from (UTC)", el("input", { id: `engaged-from-${id}`, name: "engaged_from", type: "datetime-local", "data-kind": "datetime" }), "With the end, or neither"),
      field(`engaged-until-${id}`, "Engaged until (UTC)", el("input", { id: `engaged-until-${id}`, name: "engaged_until", type: "datetime-local", "data-kind": "datetime" })),
      factorPicker(`factors-${id}`, "Why the alert was false"),
      el("p", { class: "form-error", role: "alert" }),
      el("button", { type: "submit", class: "primary", text: "Record engagement" }),
    ),
  );
  // An identity not confirmed says why the alert was false (the policy's factors).
  showWhen(form, form.querySelector(".factors"), () => form.elements.confirmed.value === "false")();
  bindForm(form, { path: `/alerts/${id}/engagement`, body: withFactors, done: () => toast("Engagement recorded") });
  return form;
}

function outcomeForm(alert) {
  const id = alert.id;
  const form = el(
    "form",
    { "aria-label": `Outcome of alert ${id}` },
    el(
      "fieldset",
      {},
      el("legend", { text: "Outcome" }),
      field(`type-${id}`, "What happened", el("select", { id: `type-${id}`, name: "type" }, OUTCOMES.map(([v, t]) => el("option", { value: v, text: t })))),
      field(`offences-${id}`, "Offences (one per line)", el("textarea", { id: `offences-${id}`, name: "offences", "data-kind": "lines", rows: 2 }), "Arrest or charge: each offence; bail or voluntary attendance: what it is in connection with"),
      field(`custody-ref-${id}`, "Custody reference", el("input", { id: `custody-ref-${id}`, name: "custody_ref", maxlength: 200 })),
      field(`crime-ref-${id}`, "Crime reference", el("input", { id: `crime-ref-${id}`, name: "crime_ref", maxlength: 200 })),
      field(`conditions-${id}`, "Conditions checked (one per line)", el("textarea", { id: `conditions-${id}`, name: "conditions", "data-kind": "lines", rows: 2 }), "Compliance check: the conditions checked; bail: its conditions"),
      field(`due-at-${id}`, "Answer bail / attend at (UTC)", el("input", { id: `due-at-${id}`, name: "due_at", type: "datetime-local", "data-kind": "datetime" }), "Bail or voluntary attendance only"),
      field(
        `result-${id}`,
        "Compliance result",
        el(
          "select",
          { id: `result-${id}`, name: "result" },
          el("option", { value: "", text: "—" }),
          el("option", { value: "complied", text: "Complied" }),
          el("option", { value: "breach", text: "Breach" }),
        ),
      ),
      field(`note-${id}`, "Note", el("textarea", { id: `note-${id}`, name: "note", rows: 2, maxlength: 2000 })),
      el("p", { class: "form-error", role: "alert" }),
      el("button", { type: "submit", class: "primary", text: "Record outcome" }),
    ),
  );
  bindForm(form, {
    path: `/alerts/${id}/outcomes`,
    done: () => {
      toast("Outcome recorded");
      form.reset();
    },
  });
  return form;
}

function renderMatch(alert) {
  if (alert.decision !== "match") return;
  let card = matches.querySelector(`[data-alert-id="${alert.id}"]`);
  const summary = [
    alert.engaged === undefined || alert.engaged === null ? "not engaged yet" : alert.engaged ? "engaged" : "not engaged",
    alert.confirmed ? `identity ${alert.confirmed === "true" ? "confirmed" : alert.confirmed === "false" ? "not confirmed" : "unknown"}` : null,
    alert.outcomes?.length ? `outcomes: ${alert.outcomes.map((o) => o.replaceAll("_", " ")).join(", ")}` : null,
  ].filter(Boolean);
  if (card) {
    card.querySelector(".summary").textContent = summary.join(" · ");
    return;
  }
  card = el(
    "article",
    { class: "alert-card", "data-alert-id": alert.id, tabindex: 0, "aria-label": `Match, ${alert.category}` },
    el("h3", { text: `${alert.category} · camera ${alert.camera_id}` }),
    el("p", { text: `Adjudicated a match ${when(alert.adjudicated_at)}` }),
    el("p", { class: "summary decided", text: summary.join(" · ") }),
    engagementForm(alert),
    outcomeForm(alert),
  );
  matches.prepend(card);
  // The list gives an alert's decision only; its engagement and outcomes come from its record.
  if (!("outcomes" in alert)) {
    api("GET", `/alerts/${alert.id}`).then((record) => feed.apply(record.alert, false)).catch(() => {});
  }
}

const feed = new AlertFeed({
  onChange: renderMatch,
  onState: (state) => (document.getElementById("stream-state").textContent = `Live stream: ${state}`),
});

async function follow() {
  matches.replaceChildren();
  if (select.value) await feed.follow(select.value);
}
select.addEventListener("change", () => follow().catch((e) => toast(e.message)));
fillDeployments(select, { prefer: ["live", "paused"] }).then(follow).catch((e) => toast(e.message));
