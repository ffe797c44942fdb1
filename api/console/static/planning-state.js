// Forms by state: each task on the chosen deployment shows its form only when the deployment's
// state allows it, otherwise one sentence says why (the ledger would refuse the form anyway;
// this spares the person the refusal). The ledger stays the judge: these rules mirror the
// domain's `_require_status` checks, they do not replace them.
import { label, timeEl } from "./format.js";

const RUNNING = ["live", "paused"];
const BEFORE_START = ["proposed", "authorised"];

function now(d) {
  return label(d.status).toLowerCase();
}

// Task -> (deployment, context) -> null when the form applies, else why not (text or nodes).
// context.published: deployment id -> when its results were published (the public feed).
export const RULES = {
  authorise: (d) => {
    if (d.status === "proposed") return null;
    if (d.status === "refused") return "This deployment was refused: nothing is left to decide.";
    return ["Already authorised by ", d.authorised_by || "an authorising officer", ", ", timeEl(d.authorised_at), ": authority is decided once, on a proposal."];
  },
  confirm: (d) => {
    if (!d.urgent) return "Authorised in the ordinary way: there is no urgent authority to confirm.";
    if (d.urgent_confirmed) return "The urgent authority is confirmed in writing already.";
    return null;
  },
  "watchlist-review": (d) => {
    if (BEFORE_START.includes(d.status)) return null;
    if (d.status === "refused") return "This deployment was refused: its watchlist is not reviewed.";
    return `The watchlist is reviewed before the deployment starts; this one is ${now(d)}.`;
  },
  threshold: (d) => {
    if ([...BEFORE_START, ...RUNNING].includes(d.status)) return null;
    return `The threshold changes only until the deployment ends; this one is ${now(d)}.`;
  },
  enrol: (d) => {
    if (BEFORE_START.includes(d.status)) return null;
    if (d.status === "refused") return "This deployment was refused: no one is enrolled on its watchlist.";
    return `The watchlist is frozen once the deployment starts; this one is ${now(d)}.`;
  },
  reconfirm: (d) => {
    if ([...BEFORE_START, ...RUNNING].includes(d.status)) return null;
    return `Entries are re-confirmed until the deployment ends; this one is ${now(d)}.`;
  },
  "post-review": (d) => {
    if (d.status !== "ended") return `The review comes once the deployment has ended; this one is ${now(d)}.`;
    if (!d.started_at) return "This deployment ended without going live: there is nothing to review.";
    if (d.post_review_at) return ["Reviewed already, ", timeEl(d.post_review_at), "."];
    return null;
  },
  publish: (d, context) => {
    if (d.status !== "ended") return `Results are published once the deployment has ended; this one is ${now(d)}.`;
    if (!d.started_at) return "This deployment ended without going live: it has no results to publish.";
    const published = context.published?.get(d.id);
    if (published) return ["Its results are on the public page since ", timeEl(published), "."];
    return null;
  },
  complaints: () => null,
};

// Shows each task's form, or says why not; `hide-unless-due` sections leave the page instead
// (a planner's "Publish" is not worth a line while nothing is to publish).
export function applyState(d, context = {}) {
  for (const task of document.querySelectorAll("[data-task]")) {
    const rule = RULES[task.dataset.task];
    const why = task.querySelector(".why");
    const body = task.querySelector(".task-body");
    const reason = d ? rule?.(d, context) ?? null : "Choose a deployment first.";
    task.dataset.allowed = reason === null ? "yes" : "no";
    if (body) body.hidden = reason !== null;
    if (why) {
      why.hidden = reason === null;
      why.replaceChildren(...(reason === null ? [] : [reason].flat()));
    }
    if (task.hasAttribute("data-hide-unless-due")) task.hidden = reason !== null;
  }
  putDueFirst();
}

// What can be done now comes first; the tasks that wait (a heading and a sentence each) after
// them; the folded registers last. The DOM is reordered, not just the picture, so reading and
// focus order follow what is seen.
function putDueFirst() {
  const work = document.querySelector(".planning .work");
  if (!work) return;
  const children = [...work.children];
  for (const [i, child] of children.entries()) child.dataset.order ??= String(i);
  const rank = (node) => {
    if (node.matches("details.task-group")) return 2;
    const task = node.dataset.follows ? work.querySelector(`[data-task="${node.dataset.follows}"]`) : node;
    return task?.dataset.allowed === "no" ? 1 : 0;
  };
  const sorted = children.sort((a, b) => rank(a) - rank(b) || Number(a.dataset.order) - Number(b.dataset.order));
  if (sorted.some((node, i) => node !== work.children[i])) work.append(...sorted);
}
