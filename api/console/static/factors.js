// Why an alert was false: the policy's closed list of false-alert factors (GET /policy), offered
// as checkboxes grouped by factor, on the operator's "No match" and on the officer's
// "Not confirmed". A checkbox has no name, so the form's own body leaves it out; `withFactors`
// adds the ticked codes as `false_alert_factors`.
import { api, el, formBody, label } from "./console.js";

let policy = null;

function factorsOfPolicy() {
  policy ??= api("GET", "/policy").then((p) => ({
    codes: p.false_alert_factors || [],
    required: Boolean(p.false_alert_factors_required),
  }));
  return policy;
}

export function factorPicker(id, legend) {
  const hint = el("span", { class: "keys", id: `${id}-hint`, text: "A factor, or the reason within it" });
  const box = el("fieldset", { class: "factors", id, hidden: true, "aria-describedby": `${id}-hint` }, el("legend", { text: legend }), hint);
  factorsOfPolicy()
    .then(({ codes, required }) => {
      if (required) hint.textContent = "At least one: a factor, or the reason within it (the policy requires it)";
      for (const factor of codes.filter((code) => !code.includes("."))) {
        const group = el("div", { class: "field", role: "group", "aria-label": label(factor) });
        for (const code of codes.filter((c) => c === factor || c.startsWith(`${factor}.`))) {
          const text = code === factor ? `${label(factor)} (no reason given)` : `${label(factor)}: ${label(code.slice(factor.length + 1))}`;
          group.append(el("label", { class: "field inline" }, el("input", { type: "checkbox", value: code, "data-factor": code }), text));
        }
        box.append(group);
      }
    })
    .catch(() => box.append(el("p", { class: "empty", text: "The policy's false-alert factors could not be read" })));
  return box;
}

// Shows the picker while `shown()` holds (e.g. "No match" is chosen), clearing it when hidden.
export function showWhen(form, box, shown) {
  const update = () => {
    box.hidden = !shown();
    if (box.hidden) for (const input of box.querySelectorAll("input[data-factor]")) input.checked = false;
  };
  form.addEventListener("change", update);
  form.addEventListener("reset", () => setTimeout(update));
  return update;
}

export async function withFactors(form) {
  const body = await formBody(form);
  const chosen = [...form.querySelectorAll("input[data-factor]:checked")].map((input) => input.value);
  if (chosen.length) body.false_alert_factors = chosen;
  return body;
}
