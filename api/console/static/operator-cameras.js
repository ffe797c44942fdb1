// The deployment's cameras on the operator's page, pushed by the server
// (GET /deployments/{id}/cameras/stream): each message is the whole state, sent on connecting
// and whenever it changes, so a reconnect (the browser's own) starts from the state as it is.
// Nothing here asks the server on a timer.
import { el, label } from "./console.js";
import { number, plural, timeEl } from "./format.js";

// What the matcher's source gave it over the interval of its last heartbeat. An older matcher
// counts neither frames offered nor processed (both 0): only its drops are shown.
function frameCounts(beat) {
  const offered = beat.frames_offered || 0;
  const processed = beat.frames_processed || 0;
  const dropped = beat.frames_dropped || 0;
  if (!offered && !processed) return `${number(dropped)} dropped`;
  return `${number(offered)} offered · ${number(processed)} processed · ${number(dropped)} dropped`;
}

// The video source as the last heartbeat saw it: lost (a gap still open), or the gaps it had.
function sourceState(beat) {
  const gaps = beat.source_gaps || [];
  const open = gaps.find((gap) => !gap.ended_at);
  if (open) return ["Source lost since ", timeEl(open.started_at)];
  if (!gaps.length) return ["No loss of the video source reported"];
  const last = gaps[gaps.length - 1];
  return ["Source back since ", timeEl(last.ended_at), ` (${plural(gaps.length, "loss", "losses")} reported)`];
}

const LINE = (...parts) => el("p", {}, ...parts);

function cameraItem(camera, status) {
  const beat = camera.last_heartbeat;
  const face = camera.last_face_report;
  // An ended deployment expects nothing of its cameras: say so rather than a bare state.
  const state = camera.state === "not_live" ? `Not live (deployment ${label(status).toLowerCase()})` : label(camera.state);
  return el(
    "li",
    { class: `camera state-${camera.state}`, "data-camera-id": camera.camera_id },
    el("p", { class: "camera-name" }, el("strong", { text: camera.name }), ` (${camera.camera_id}) `, el("span", { class: "camera-state", text: state })),
    LINE("Last heard ", camera.last_seen_at ? timeEl(camera.last_seen_at) : "never"),
    camera.silent_since ? LINE("Silent since ", timeEl(camera.silent_since)) : null,
    beat ? LINE(...sourceState(beat)) : null,
    beat ? LINE(`Frames, last interval: ${frameCounts(beat)}`) : null,
    beat?.last_error ? LINE(`Last error: ${beat.last_error}`) : null,
    LINE(face ? `${plural(face.faces, "face")} counted to ` : "No face count yet", face ? timeEl(face.period_end) : ""),
  );
}

export class CameraWatch {
  constructor({ list, state, onStatus }) {
    this.list = list;
    this.state = state;
    this.onStatus = onStatus || (() => {});
    this.names = new Map();
    this.source = null;
  }

  follow(deploymentId) {
    this.source?.close();
    this.list.replaceChildren();
    const source = new EventSource(`/deployments/${deploymentId}/cameras/stream`);
    this.source = source;
    source.onopen = () => (this.state.textContent = "");
    source.onerror = () => (this.state.textContent = source.readyState === EventSource.CLOSED ? "(updates stopped)" : "(reconnecting…)");
    source.addEventListener("cameras", (event) => this.show(JSON.parse(event.data)));
  }

  show(reply) {
    for (const camera of reply.cameras) this.names.set(camera.camera_id, camera.name);
    this.list.replaceChildren(...reply.cameras.map((camera) => cameraItem(camera, reply.status)));
    if (!reply.cameras.length) this.list.append(el("li", { class: "empty", text: "No cameras in the plan." }));
    this.onStatus(reply.status);
  }

  name(cameraId) {
    const name = this.names.get(cameraId);
    return name ? `${name} (${cameraId})` : `camera ${cameraId}`;
  }

  close() {
    this.source?.close();
  }
}
