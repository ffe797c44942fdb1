// The administrator's desk: retention's backlog with a dry run before any destruction, each
// view's lag behind the log, the latest checkpoint's age, and a copy of the policy in force to
// edit and adopt. Counts, states and times only: nothing here names a person.
import { api, bindForm, el, newKey, Problem, scrollBox, showProblem, toast } from "./console.js";
import { label, number, plural, shortId, timeEl } from "./format.js";

const $ = (id) => document.getElementById(id);

// --- retention ---------------------------------------------------------------------------

// "1 watchlist (2 entries)", "3 alert image sets", …: the kinds with something in them.
function dueKinds(due) {
  const kinds = [];
  if (due.watchlists) {
    kinds.push(`${plural(due.watchlists, "watchlist")} (${plural(due.entries, "entry", "entries")})`);
  }
  if (due.alert_images) kinds.push(`${plural(due.alert_images, "alert image set")} (and the alerts' notes)`);
  if (due.consultations) kinds.push(`the stated purpose of ${plural(due.consultations, "consultation")}`);
  if (due.disclosures) kinds.push(`the recipient and record of ${plural(due.disclosures, "disclosure")}`);
  return kinds;
}

function list(items) {
  return el("ul", { class: "kinds" }, items.map((item) => el("li", {}, item)));
}

// Held images and deployments nobody ended: kept, and someone must act on the second.
function notes(held, notEnded, unsealed) {
  const out = [];
  if (held) out.push(el("p", {}, `${plural(held, "alert image set")} past the period ${held === 1 ? "is" : "are"} kept under a legal hold.`));
  if (notEnded) {
    out.push(
      el("p", { class: "warning" },
        `${plural(notEnded, "deployment")} whose window closed ${notEnded === 1 ? "was" : "were"} never ended: `
        + "an operator must end it before its watchlist can be destroyed."),
    );
  }
  if (unsealed) {
    out.push(el("p", {}, `${plural(unsealed, "disclosure")} past the period ${unsealed === 1 ? "was" : "were"} recorded before sealing: its text stays in the log.`));
  }
  return out;
}

async function showDue() {
  const due = await api("GET", "/retention/due");
  const kinds = dueKinds(due);
  $("retention-due").replaceChildren(
    el("h3", {}, "Due now"),
    kinds.length
      ? el("div", {}, el("p", {}, "Past their retention period and not yet destroyed:"), list(kinds))
      : el("p", { class: "ok" }, "Nothing is due: retention is keeping up."),
    ...notes(due.held, due.not_ended, due.unsealed_disclosures),
    el("p", { class: "keys" }, "As of ", timeEl(due.as_of), "."),
  );
  const recent = due.recent;
  const done = [
    recent.watchlists ? plural(recent.watchlists, "watchlist") : null,
    recent.alert_images ? plural(recent.alert_images, "alert image set") : null,
    recent.access_records ? `the personal content of ${plural(recent.access_records, "access record")}` : null,
  ].filter(Boolean);
  $("retention-last").replaceChildren(
    el("h3", {}, "Last run"),
    due.last_destruction_at
      ? el("p", { id: "last-destruction" }, "Retention last destroyed something on ", timeEl(due.last_destruction_at), ".")
      : el("p", { id: "last-destruction" }, "Retention has not destroyed anything yet."),
    el("p", {}, done.length ? `In the last 7 days it destroyed ${done.join(", ")}.` : "It destroyed nothing in the last 7 days."),
    el("p", { class: "keys" },
      `The server looks for what is due when it starts and every ${plural(due.sweep_minutes, "minute")}, `
      + "and destroys it; a run that finds nothing due records nothing."),
  );
  return due;
}

// What a run reply says it destroyed (or, dry, would destroy), by kind.
function runKinds(run) {
  return dueKinds({
    watchlists: run.watchlists_destroyed.length,
    entries: run.entries_destroyed.length,
    alert_images: run.alert_images_erased.length,
    consultations: run.consultation_purposes_destroyed.length,
    disclosures: run.disclosure_contents_destroyed.length,
  });
}

function runSummary(run) {
  const kinds = runKinds(run);
  const verb = run.dry_run ? "A run now would destroy" : "Destroyed";
  const parts = [
    kinds.length
      ? el("div", {}, el("p", {}, `${verb}:`), list(kinds))
      : el("p", {}, run.dry_run ? "A run now would destroy nothing." : "Nothing was due: nothing was destroyed."),
  ];
  if (run.watchlists_destroyed.length) {
    const many = run.watchlists_destroyed.length > 1;
    parts.push(el("p", { class: "keys" }, many ? "Watchlists of deployments " : "The watchlist of deployment ",
      ...run.watchlists_destroyed.flatMap((id, i) => [i ? ", " : "", shortId(id)]), "."));
  }
  if (run.keys_shredded_late.length) {
    parts.push(el("p", {}, `Also shredded ${plural(run.keys_shredded_late.length, "key")} an earlier run left behind.`));
  }
  parts.push(...notes(run.held.length, run.not_ended.length, run.unsealed_disclosures.length));
  if (run.failures.length) {
    parts.push(el("p", { class: "warning" }, `${plural(run.failures.length, "destruction")} failed:`), list(run.failures));
  }
  parts.push(el("p", { class: "keys" }, "Judged as of ", timeEl(run.as_of), run.dry_run ? ". Nothing was written." : "."));
  return { parts, destroys: kinds.length > 0 };
}

function busy(buttons, on) {
  for (const button of buttons) button.disabled = on;
}

async function dryRun() {
  const panel = $("dry-run-result");
  $("run-result").hidden = true;
  $("run-error").textContent = "";
  busy([$("dry-run")], true);
  try {
    // A dry run writes nothing (no key: there is nothing to record once).
    const run = await api("POST", "/retention/run?dry_run=true");
    const { parts, destroys } = runSummary(run);
    $("dry-run-body").replaceChildren(...parts);
    $("confirm-actions").hidden = !destroys;
    panel.dataset.key = newKey();
    panel.hidden = false;
    panel.focus();
  } catch (error) {
    toast(error.message);
  } finally {
    busy([$("dry-run")], false);
  }
}

async function runNow() {
  const panel = $("dry-run-result");
  const buttons = [$("run-confirm"), $("run-cancel"), $("dry-run")];
  busy(buttons, true);
  $("run-error").textContent = "";
  try {
    // One key per confirmation: a retry after a lost reply gets the first run's reply.
    const run = await api("POST", "/retention/run", { key: panel.dataset.key });
    panel.hidden = true;
    const { parts } = runSummary(run);
    $("run-body").replaceChildren(...parts);
    $("run-result").hidden = false;
    $("run-result").focus();
    await Promise.all([showDue(), showCheckpoint(), showViews()]);
  } catch (error) {
    const problem = error instanceof Problem ? error.problem : { title: "Error", detail: String(error) };
    $("run-error").textContent = `${problem.title}: ${problem.detail}`;
  } finally {
    busy(buttons, false);
  }
}

// --- views and checkpoint ----------------------------------------------------------------

function ago(seconds) {
  if (seconds < 90) return plural(Math.round(seconds), "second");
  if (seconds < 5400) return plural(Math.round(seconds / 60), "minute");
  if (seconds < 172800) return plural(Math.round(seconds / 3600), "hour");
  return plural(Math.round(seconds / 86400), "day");
}

async function showViews() {
  const state = await api("GET", "/projections");
  const behind = state.views.filter((v) => v.lag > 0).length;
  const rows = state.views.map((v) =>
    el("tr", { class: v.lag > state.max_lag || v.skipped ? "lagging" : null },
      el("th", { scope: "row" }, label(v.name)),
      el("td", { class: "number" }, number(v.position)),
      el("td", {}, v.lag ? `${plural(v.lag, "event")} behind` : "Current"),
      el("td", { class: "number" }, v.skipped ? plural(v.skipped, "event") : "none")),
  );
  $("views").replaceChildren(
    el("p", {}, `The log holds ${plural(state.head, "event")}. `,
      behind ? `${plural(behind, "view")} ${behind === 1 ? "has" : "have"} not applied the latest yet (a view catches up when it is next read).` : "Every view has applied the whole log."),
    scrollBox(el("table", { id: "views-table" },
      el("caption", {}, `Beyond ${plural(state.max_lag, "event")} behind, the node reports itself not ready (/health/ready).`),
      el("thead", {}, el("tr", {},
        [["View"], ["Applied up to event", "number"], ["Lag"], ["Skipped", "number"]].map(([t, c]) => el("th", { scope: "col", class: c }, t)))),
      el("tbody", {}, rows)), "Read models and their lag"),
  );
}

async function showCheckpoint() {
  const c = await api("GET", "/checkpoints/latest");
  const parts = [];
  if (!c.signed_at) {
    parts.push(el("p", {}, "No checkpoint has been signed on this node yet."));
  } else {
    parts.push(
      el("p", { id: "checkpoint-age" }, "The latest was signed ", timeEl(c.signed_at), `, ${ago(c.age_seconds)} ago. `,
        `It covers the log up to event ${number(c.last_id)}; `,
        c.events_since ? `${plural(c.events_since, "event")} recorded since ${c.events_since === 1 ? "is" : "are"} not signed yet.` : "nothing was recorded since."),
    );
  }
  if (c.stale) {
    parts.push(
      el("p", { class: "warning", role: "alert" },
        `Warning: events have been recorded and no checkpoint signed for more than ${ago(c.stale_after_seconds)}. `
        + "The server signs one every minute when the log grew: check that its checkpoint job runs (lfr audit checkpoint signs one by hand)."),
    );
  }
  $("checkpoint").replaceChildren(...parts);
}

// --- the policy in force -----------------------------------------------------------------

async function showPolicy() {
  const policy = await api("GET", "/policy/text");
  $("policy-facts").replaceChildren(
    el("dl", { class: "facts" },
      el("dt", {}, "Version"), el("dd", { id: "policy-version" }, policy.version),
      el("dt", {}, "Adopted"), el("dd", {}, policy.adopted ? "Yes, recorded in the log" : "No: not yet recorded as adopted"),
      el("dt", {}, "Content hash"), el("dd", {}, shortId(policy.content_hash))),
  );
  return policy;
}

async function editCopy() {
  const policy = await showPolicy();
  const form = $("adopt");
  form.elements.toml.value = policy.toml;
  $("copy-of").textContent = policy.version;
  form.hidden = false;
  form.elements.toml.focus();
  form.elements.toml.setSelectionRange(0, 0);
  form.elements.toml.scrollTop = 0;
}

bindForm($("adopt"), {
  path: "/policy/adopt",
  done: async (reply, form) => {
    form.hidden = true;
    form.elements.toml.value = "";
    await showPolicy();
    toast(`Policy ${reply.version} adopted: it is now in force.`);
    $("edit-copy").focus();
  },
});

$("edit-copy").addEventListener("click", () => editCopy().catch((e) => showProblem($("adopt"), e)));
$("discard-copy").addEventListener("click", () => {
  $("adopt").hidden = true;
  $("edit-copy").focus();
});
$("dry-run").addEventListener("click", dryRun);
$("run-confirm").addEventListener("click", runNow);
$("run-cancel").addEventListener("click", () => {
  $("dry-run-result").hidden = true;
  $("dry-run").focus();
});

for (const show of [showDue, showCheckpoint, showViews, showPolicy]) show().catch((e) => toast(e.message));
