// The officer on the street, on a phone: the alerts an operator decided are a match, each
// showing who to look for, where and when; the officer records the engagement, the outcome and
// the perceived characteristics, card by card. Works by keyboard alone (a card's line opens
// and closes it; its forms are ordinary forms).
import { AlertFeed, chime } from "./alerts.js";
import { api, el, fillDeployments, label, render } from "./console.js";
import { MatchCard } from "./officer-card.js";

const select = document.getElementById("deployment");
const matches = document.getElementById("matches");
const streamState = document.getElementById("stream-state");
const where = document.getElementById("where");
const announce = document.getElementById("announce");
const cards = new Map();
const listed = new Set(); // alerts read from the list when the deployment was chosen
let context = { place: "", cameras: new Map() };
// Cards made after the first list was shown are news: a tone, a word for screen readers.
let following = false;
let followedAt = 0;

function countLine() {
  const open = [...cards.values()].filter((c) => c.node.dataset.state !== "done").length;
  const count = document.getElementById("matches-count");
  count.textContent = cards.size ? `${open} to act on, ${cards.size - open} done` : "";
}

// Cards to act on first, then those done; newest decision first within each. A card stays where
// it is when its state changes (it collapses in place), so nothing jumps under a thumb.
function rank(card) {
  return [card.node.dataset.state === "done" ? 1 : 0, -(Date.parse(card.alert.adjudicated_at) || 0)];
}

function place(card) {
  const [done, age] = rank(card);
  for (const node of matches.querySelectorAll(":scope > .officer-card")) {
    const [otherDone, otherAge] = rank(cards.get(node.dataset.alertId));
    if (otherDone > done || (otherDone === done && otherAge > age)) {
      matches.insertBefore(card.node, node);
      return;
    }
  }
  matches.append(card.node);
}

function renderMatch(alert) {
  let card = cards.get(alert.id);
  if (alert.decision !== "match") {
    // A decision corrected away from a match: nobody is to be stopped on it any more.
    card?.node.remove();
    cards.delete(alert.id);
    countLine();
    return;
  }
  if (!("outcomes" in alert)) {
    listed.add(alert.id);
    // A row of the list gives the decision only; its engagement and outcomes are in its record.
    api("GET", `/alerts/${alert.id}`)
      .then((record) => {
        feed.apply(record.alert, false);
        cards.get(alert.id)?.knowRecord(record.events || []);
      })
      .catch((error) => matches.prepend(el("p", { class: "problem", text: `Alert ${alert.id.slice(0, 8)} could not be read: ${error.message}` })));
    return;
  }
  if (card) {
    card.update(alert);
  } else {
    card = new MatchCard(alert, { place: context.place, camera: context.cameras.get(alert.camera_id) });
    cards.set(alert.id, card);
    place(card);
    // News: decided after this page began following (not a list row the views had not caught
    // up with, which the stream then brings).
    if (following && !listed.has(alert.id) && Date.parse(alert.adjudicated_at) >= followedAt) {
      card.node.classList.add("arrived");
      announce.textContent = `New match to engage on: ${label(alert.category)}, ${card.cameraName}`;
      chime();
    }
  }
  countLine();
}

const feed = new AlertFeed({
  onChange: renderMatch,
  onState: (state) => (streamState.textContent = `Live alerts: ${state === "live" ? "connected" : state}`),
});

async function follow() {
  following = false;
  followedAt = Date.now();
  matches.replaceChildren();
  cards.clear();
  listed.clear();
  countLine();
  if (!select.value) {
    matches.replaceChildren(el("p", { class: "empty", text: "No deployment to follow." }));
    return;
  }
  const [deployment, cameras] = await Promise.all([
    api("GET", `/deployments/${select.value}`),
    api("GET", `/deployments/${select.value}/cameras`).catch(() => ({ cameras: [] })),
  ]);
  context = {
    place: `${deployment.location.name}, ${deployment.location.town}`,
    cameras: new Map(cameras.cameras.map((c) => [c.camera_id, c])),
  };
  where.textContent = `${context.place} · ${label(deployment.status)}`;
  await feed.follow(select.value);
  following = true;
}

function failed(error) {
  matches.replaceChildren(render({ error: error.message }));
}

select.addEventListener("change", () => follow().catch(failed));
fillDeployments(select, { prefer: ["live", "paused"] }).then(follow).catch(failed);
