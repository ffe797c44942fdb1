// One deployment's alerts, kept current: the list the API gives, then the live stream from the
// position the list was read at. Events are applied by alert id, so an event seen twice (in the
// list and again on the stream, or again after a reconnect) changes nothing.
// Also what an alert card shows on any page: the two faces side by side, and enlarging them.
import { api, el } from "./console.js";

const EVENTS = [
  "alert.raised",
  "alert.adjudicated",
  "alert.adjudication_corrected",
  "alert.engagement_recorded",
  "alert.outcome_recorded",
  "alert.outcome_corrected",
  "alert.closed",
  "alert.legal_hold_placed",
  "alert.legal_hold_released",
  "alert.images_erased",
];

export class AlertFeed {
  constructor({ onChange, onState }) {
    this.alerts = new Map();
    this.onChange = onChange;
    this.onState = onState || (() => {});
    this.source = null;
  }

  async follow(deploymentId) {
    this.source?.close();
    this.alerts.clear();
    const list = await api("GET", `/deployments/${deploymentId}/alerts`);
    for (const row of list.alerts) this.apply(row, false);
    const url = `/alerts/stream?deployment_id=${deploymentId}&last_event_id=${list.stream_from}`;
    const source = new EventSource(url);
    this.source = source;
    source.onopen = () => this.onState("live");
    // The browser reconnects by itself, sending Last-Event-ID: the stream resumes after it.
    source.onerror = () => this.onState(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
    for (const name of EVENTS) {
      source.addEventListener(name, (event) => {
        const state = JSON.parse(event.data);
        this.apply(state, name === "alert.raised" && !this.alerts.has(state.id));
      });
    }
  }

  apply(state, arrived) {
    const known = this.alerts.get(state.id) || {};
    const merged = { ...known, ...state };
    this.alerts.set(state.id, merged);
    this.onChange(merged, arrived);
  }

  close() {
    this.source?.close();
  }
}

// --- the two faces --------------------------------------------------------------------------

function noImage(event) {
  const figure = event.target.closest("figure");
  event.target.replaceWith(el("p", { class: "no-image", text: "No image to show" }));
  figure?.classList.add("missing");
}

// The enrolled image and the camera's crop, side by side, each read with `purpose` (a logged
// consultation). Clicking either enlarges both (`enlarge(container)`).
export function faces(alert, purpose, { cameraName, enlarge } = {}) {
  const query = `purpose=${encodeURIComponent(purpose)}`;
  const camera = cameraName || `camera ${alert.camera_id}`;
  const face = (src, alt, caption) =>
    el(
      "figure",
      {},
      el(
        "button",
        { type: "button", class: "face", "aria-label": `Enlarge both faces (${caption.toLowerCase()})`, onclick: (event) => enlarge?.(event.currentTarget.closest(".faces")) },
        el("img", { src, alt, onerror: noImage }),
      ),
      el("figcaption", { text: caption }),
    );
  return el(
    "div",
    { class: "faces" },
    face(`/watchlist/entries/${alert.entry_id}/image?${query}`, "Enrolled watchlist image", "Enrolled image (watchlist)"),
    face(`/alerts/${alert.id}/face-crop?${query}`, `Face captured by ${camera}`, `Captured by ${camera}`),
  );
}

// Shows a card's faces large in the page's <dialog>: the very <figure>s move into it and back
// on closing, so nothing is fetched (or logged as a consultation) a second time. Esc closes
// (the dialog's own behaviour); focus returns to where it was.
export function facesDialog(dialog) {
  const body = dialog.querySelector(".faces");
  const title = dialog.querySelector("h2");
  let home = null;
  let returnTo = null;
  dialog.querySelector("button")?.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (home) home.replaceChildren(...body.children);
    home = null;
    returnTo?.focus?.();
  });
  return (container, heading) => {
    if (!container || dialog.open) return;
    home = container;
    returnTo = document.activeElement;
    title.textContent = heading || "Faces";
    body.replaceChildren(...container.children);
    dialog.showModal();
    dialog.querySelector("button")?.focus();
  };
}

// A short tone when an alert arrives; the browser may refuse sound until the page is used.
let audio = null;
export function chime() {
  try {
    audio ??= new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
  } catch {
    // No sound device: the card's colour and the title still announce it.
  }
}
