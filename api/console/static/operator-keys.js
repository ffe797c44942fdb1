// The operator's keys: they move among the alerts AWAITING a decision only (j older, k newer,
// starting from the newest), decide the alert in focus (m, n, i: the reason field takes over),
// and enlarge its faces (e). A key that cannot act says why, in the page's live message, and
// never does nothing silently (issue 25: j used to land on decided cards where m did nothing).

const DECISION_KEYS = { m: "match", n: "no_match", i: "inconclusive" };
const KEYS = new Set(["j", "k", "e", ...Object.keys(DECISION_KEYS)]);

function typing(target) {
  // Text being typed keeps its letters; a radio or a checkbox in focus does not type.
  return target.closest?.('textarea, select, dialog, input:not([type="radio"]):not([type="checkbox"])');
}

export class QueueKeys {
  // queue: the cards' container (newest first); say(text): the announced message;
  // choose(card, decision) and enlarge(card) act on a pending card.
  constructor({ queue, say, choose, enlarge }) {
    this.queue = queue;
    this.say = say;
    this.choose = choose;
    this.enlarge = enlarge;
    document.addEventListener("keydown", (event) => this.onKey(event));
  }

  cards() {
    return [...this.queue.querySelectorAll(".alert-card")];
  }

  pending() {
    return this.cards().filter((card) => card.classList.contains("pending"));
  }

  // The next alert awaiting a decision after `card`: older ones first (below it), then newer
  // ones that arrived meanwhile (above it); none: null.
  nextPending(card) {
    const all = this.cards();
    const at = all.indexOf(card);
    const isPending = (c) => c !== card && c.classList.contains("pending");
    return all.slice(at + 1).find(isPending) || all.slice(0, Math.max(at, 0)).find(isPending) || null;
  }

  focus(card) {
    card.focus();
    card.scrollIntoView({ block: "nearest" });
  }

  onKey(event) {
    if (!KEYS.has(event.key) || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    event.preventDefault();
    const card = event.target.closest?.(".alert-card") || null;
    const pending = this.pending();
    if (event.key === "j" || event.key === "k") {
      if (!pending.length) return this.say("No alert is awaiting a decision.");
      if (!card) return this.focus(pending[0]);
      const all = this.cards();
      const at = all.indexOf(card);
      const older = event.key === "j";
      const next = older
        ? all.slice(at + 1).find((c) => c.classList.contains("pending"))
        : all.slice(0, at).reverse().find((c) => c.classList.contains("pending"));
      if (next) return this.focus(next);
      return this.say(older ? "No older alert is awaiting a decision (k goes to newer ones)." : "No newer alert is awaiting a decision (j goes to older ones).");
    }
    const target = card || pending[0];
    if (!target) return this.say("No alert is awaiting a decision.");
    if (!target.classList.contains("pending")) {
      const decided = target.dataset.decidedText || "it was decided";
      target.classList.add("refused");
      setTimeout(() => target.classList.remove("refused"), 1500);
      return this.say(`This alert is already decided (${decided}): nothing was recorded. Press j for the next alert awaiting a decision.`);
    }
    if (event.key === "e") return this.enlarge(target);
    return this.choose(target, DECISION_KEYS[event.key]);
  }
}
