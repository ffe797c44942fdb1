// Oversight: the integrity of the log (with what exactly was checked), subject access, one
// deployment's whole history, deployments, publication, equality, disclosures, consultations
// and the access review. Each report is in its own module; this one wires the forms.
// Personal data is read only through the API routes that log it, with the purpose typed here.
import { api, bindForm, clearErrors, el, showProblem, toast } from "./console.js";
import { fromUkLocal, toUkLocal } from "./format.js";
import { compareWitnesses, showAlarms, showChain } from "./oversight-chain.js";
import { fillChoice, showAccessReview, showConsultations, showDeployments, showDisclosures, showPublication, showTimeline } from "./oversight-logs.js";
import { equality, subjectAccess } from "./oversight-subject.js";

const select = document.getElementById("deployment");

// A read of personal data was just logged: the access log and its review show it.
async function afterRead() {
  await Promise.all([showConsultations(), showAccessReview(accessForm)]);
}

function purposeFor(form) {
  return form.elements.purpose.value.trim();
}

// A button's work: disabled while it runs (a second click does nothing), a refusal shown.
async function guarded(form, work, button = null) {
  clearErrors(form);
  const buttons = button ? [button] : [...form.querySelectorAll("button")];
  for (const b of buttons) b.disabled = true;
  try {
    await work();
  } catch (error) {
    showProblem(form, error);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

const historyForm = document.getElementById("history-form");
historyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(historyForm, async () => {
    const reply = await api("GET", `/deployments/${select.value}/history`, { purpose: purposeFor(historyForm) });
    showTimeline(reply);
    await afterRead();
  });
});

document.getElementById("bundle").addEventListener("click", (event) => {
  guarded(historyForm, async () => {
    const response = await api("GET", `/oversight/bundles/${select.value}`, { purpose: purposeFor(historyForm) });
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: `bundle-${select.value}.zip` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    toast("Bundle downloaded");
    await afterRead();
  }, event.currentTarget);
});

// From the deployments list: that deployment chosen for its history, the purpose field next.
function pickForHistory(deploymentId) {
  select.value = deploymentId;
  document.getElementById("history-purpose").focus();
  document.getElementById("h-history").scrollIntoView({ block: "start" });
}

const subjectForm = document.getElementById("subject-form");
subjectForm.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(subjectForm, async () => {
    const f = subjectForm.elements;
    const query = new URLSearchParams({
      subject_ref: f.subject_ref.value.trim(),
      from: fromUkLocal(f.from.value),
      to: fromUkLocal(f.to.value),
    });
    const reply = await api("GET", `/subject-access?${query}`, { purpose: purposeFor(subjectForm) });
    document.getElementById("subject").replaceChildren(subjectAccess(reply));
    await afterRead();
  });
});

const equalityForm = document.getElementById("equality-form");
equalityForm.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(equalityForm, async () => {
    const reply = await api("GET", "/oversight/equality", { purpose: purposeFor(equalityForm) });
    document.getElementById("equality").replaceChildren(equality(reply));
    await afterRead();
  });
});

const accessForm = document.getElementById("access-form");
accessForm.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(accessForm, () => showAccessReview(accessForm));
});

bindForm(document.getElementById("disclosure"), {
  path: "/oversight/disclosures",
  done: async (_, form) => {
    form.reset();
    toast("Disclosure recorded");
    await showDisclosures();
  },
});

// A chain check from the first event: the whole log re-hashed, on request (it reads it all).
const fullButton = document.getElementById("verify-full");
fullButton.addEventListener("click", async () => {
  fullButton.disabled = true;
  document.getElementById("chain").setAttribute("aria-busy", "true");
  try {
    await showChain({ full: true });
  } catch (error) {
    toast(error.message);
  } finally {
    fullButton.disabled = false;
    document.getElementById("chain").removeAttribute("aria-busy");
  }
});

const witnessButton = document.getElementById("compare-witnesses");
witnessButton.addEventListener("click", async () => {
  witnessButton.disabled = true;
  try {
    await compareWitnesses();
  } catch (error) {
    toast(error.message);
  } finally {
    witnessButton.disabled = false;
  }
});

document.getElementById("status-filter").addEventListener("change", () => showDeployments(pickForHistory).catch((e) => toast(e.message)));

// Sensible defaults: the last year for a subject search (UK time, as the labels say).
const now = new Date();
subjectForm.elements.to.value = toUkLocal(now);
subjectForm.elements.from.value = toUkLocal(new Date(now.getTime() - 365 * 86400000));
document.getElementById("history-purpose").value = "oversight review of this deployment";

for (const work of [
  () => showChain(),
  showAlarms,
  showPublication,
  () => showDeployments(pickForHistory),
  showDisclosures,
  showConsultations,
  () => showAccessReview(accessForm),
  () => fillChoice(select),
]) {
  work().catch((error) => toast(error.message));
}
