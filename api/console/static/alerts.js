// One deployment's alerts, kept current: the list the API gives, then the live stream from the
// position the list was read at. Events are applied by alert id, so an event seen twice (in the
// list and again on the stream, or again after a reconnect) changes nothing.
import { api } from "./console.js";

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
