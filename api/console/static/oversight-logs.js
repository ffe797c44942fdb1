// The oversight page's lists: deployments, results overdue for publication, one deployment's
// history as a timeline, consultations, disclosures and the access review. Times are UK local
// with the UTC instant on hover, ids short with the whole on hover, codes in words.
import { api, el, label, render } from "./console.js";
import { day, fromUkLocal, number, plural, shortId, timeEl } from "./format.js";
import { camelWords, grid, recordText, who } from "./oversight-dom.js";

// The history form's choice of deployment, the latest window first, in words.
export async function fillChoice(select) {
  const list = await api("GET", "/deployments");
  const previous = select.value;
  select.replaceChildren(
    ...list.deployments.reverse().map((d) =>
      el("option", { value: d.deployment_id, text: `${d.location_name}, ${d.town} · ${day(d.starts_at)} · ${label(d.status)}` }),
    ),
  );
  if (previous && [...select.options].some((o) => o.value === previous)) select.value = previous;
}

export async function showDeployments(onPick) {
  const status = document.getElementById("status-filter").value;
  const list = await api("GET", `/deployments${status ? `?status=${status}` : ""}`);
  const rows = list.deployments.map((d) => ({
    place: `${d.location_name}, ${d.town}`,
    opens: timeEl(d.starts_at),
    status: label(d.status) + (d.urgent ? " (urgent)" : ""),
    id: shortId(d.deployment_id),
    // Straight to its history: the deployment chosen in the form below, its purpose field next.
    history: el("button", { type: "button", class: "link", text: "History", "aria-label": `History of ${d.location_name}, ${d.town}`, onclick: () => onPick(d.deployment_id) }),
  }));
  const count = plural(rows.length, "deployment");
  document.getElementById("deployments").replaceChildren(
    grid(rows, [["place", "Place"], ["opens", "Window opens"], ["status", "Status"], ["id", "Id"], ["history", "History"]], { caption: count }),
  );
}

// Results not on the public page within the policy's days of the end (each recorded in the
// log as PublicationOverdue by the ledger's deadline check).
export async function showPublication() {
  const feed = await api("GET", "/public/deployments.json");
  const overdue = feed.results_due.filter((r) => r.overdue);
  document.getElementById("publication-overdue").replaceChildren(
    overdue.length
      ? grid(
          overdue.map((r) => ({
            place: `${r.location.name}, ${r.location.town}`,
            ended: timeEl(r.ended_at),
            due: timeEl(r.due_by),
            recorded: r.overdue_recorded_at ? timeEl(r.overdue_recorded_at) : "Not yet",
            id: shortId(r.deployment_id),
          })),
          [["place", "Place"], ["ended", "Ended"], ["due", "Due by"], ["recorded", "Recorded overdue"], ["id", "Deployment"]],
          { caption: `${plural(overdue.length, "result")} overdue` },
        )
      : el("p", { class: "verified", text: `No result overdue: each is published within ${plural(feed.results_within_days, "day")} of its deployment's end, or not yet due` }),
  );
}

const REFUSALS = /Refused|Lapsed|Withdrawn|Erased|Silent|Overdue|Alarm/;

// "lfr/Alert.EngagementRecorded" -> ["Alert", "Engagement recorded"].
export function topicWords(topic) {
  const name = topic.split("/").at(-1).split(":").at(-1);
  const [aggregate, event] = name.includes(".") ? name.split(".", 2) : ["", name];
  return [camelWords(aggregate), label(event) === event ? camelWords(event) : label(event)];
}

function eventItem(event) {
  const [aggregate, words] = topicWords(event.topic);
  const data = { ...(event.data || {}) };
  delete data.originator_topic;
  const actor = event.actor ? who(event.actor.id, { role: event.actor.role }) : "the ledger";
  return el(
    "li",
    { class: REFUSALS.test(event.topic) ? "refusal" : null },
    el("span", { class: "when" }, timeEl(event.occurred_at || event.recorded_at)),
    el("span", { class: "what" }, aggregate ? el("span", { class: "aggregate", text: aggregate }) : null, el("span", { class: "topic", text: words })),
    el("span", { class: "meta" }, `${actor} · event ${number(event.notification_id)}`, data.policy_version ? ` · policy ${data.policy_version}` : ""),
    Object.keys(data).length ? el("details", {}, el("summary", { text: "What was recorded" }), render(data)) : null,
  );
}

export function showTimeline(reply) {
  const events = reply.events;
  const first = events[0];
  const last = events.at(-1);
  document.getElementById("timeline-summary").replaceChildren(
    ...(events.length
      ? [`${plural(events.length, "event")} of deployment `, shortId(reply.deployment_id), ", from ", timeEl(first.occurred_at || first.recorded_at), " to ", timeEl(last.occurred_at || last.recorded_at), "; this read was logged."]
      : ["No event recorded for this deployment."]),
  );
  document.getElementById("timeline").replaceChildren(...events.map(eventItem));
}

// The access log's latest reads. The API pages oldest first, so the pages are walked to the
// end (bounded: 20 pages of 1,000) before the newest fifty are shown.
export async function showConsultations() {
  let after = 0;
  let all = [];
  for (let page = 0; page < 20; page += 1) {
    const reply = await api("GET", `/audit/consultations?limit=1000&after=${after}`);
    all = all.concat(reply.consultations);
    if (reply.next_after === null || reply.next_after === undefined) break;
    after = reply.next_after;
  }
  const latest = all.slice(-50).reverse();
  document.getElementById("consultations").replaceChildren(
    grid(
      latest.map((c) => ({
        when: timeEl(c.occurred_at),
        who: who(c.actor_id, { body: c.body }),
        record: recordText(c.record),
        purpose: c.purpose === "[erased]" ? "Erased after the access-log period" : c.purpose,
        id: shortId(c.id),
      })),
      [["when", "When"], ["who", "Who"], ["record", "What was read"], ["purpose", "Purpose stated"], ["id", "Id"]],
      { caption: all.length > 50 ? `The latest 50 of ${plural(all.length, "consultation")}, newest first` : `${plural(all.length, "consultation")}, newest first`, empty: "No one has read personal data yet." },
    ),
  );
}

export async function showDisclosures() {
  const reply = await api("GET", "/audit/disclosures");
  document.getElementById("disclosures").replaceChildren(
    grid(
      reply.disclosures.map((d) => ({
        when: timeEl(d.occurred_at),
        recipient: d.recipient,
        record: d.record,
        basis: d.legal_basis,
        by: d.actor_id,
        destroyed: d.content_destroyed_at ? timeEl(d.content_destroyed_at) : "No",
      })),
      [["when", "When"], ["recipient", "Recipient"], ["record", "Record disclosed"], ["basis", "Legal basis"], ["by", "Recorded by"], ["destroyed", "Content destroyed"]],
      { caption: `${plural(reply.disclosures.length, "disclosure")}, oldest first`, empty: "No disclosure recorded." },
    ),
  );
}

// The access review, narrowed by the form; "Show more" follows the API's pages.
const ACCESS_COLUMNS = [["when", "When"], ["kind", "Kind"], ["who", "Who"], ["record", "Record"], ["why", "Purpose, or recipient and legal basis"], ["id", "Id"]];

function accessRow(r) {
  const why = r.kind === "disclosure" ? `to ${r.recipient ?? "—"} under ${r.legal_basis ?? "—"}` : r.purpose;
  return {
    when: timeEl(r.occurred_at),
    kind: label(r.kind),
    who: who(r.actor_id, { role: r.actor_role, body: r.actor_body }),
    record: recordText(r.record),
    why,
    id: shortId(r.id),
  };
}

export async function showAccessReview(form) {
  const query = new URLSearchParams({ limit: "100" });
  const f = form.elements;
  if (f.actor_id.value.trim()) query.set("actor_id", f.actor_id.value.trim());
  if (f.record.value.trim()) query.set("record", f.record.value.trim());
  if (f.from.value) query.set("from", fromUkLocal(f.from.value));
  if (f.to.value) query.set("to", fromUkLocal(f.to.value));
  const box = document.getElementById("access-review");
  const rows = [];
  async function more(after) {
    query.set("after", String(after));
    const reply = await api("GET", `/oversight/access-review?${query}`);
    rows.push(...reply.records.map(accessRow));
    const next = reply.next_after;
    box.replaceChildren(
      ...[
      grid(rows, ACCESS_COLUMNS, { caption: `${plural(rows.length, "record")}${next ? " so far" : ""}, oldest first`, empty: "No consultation or disclosure matches." }),
      next ? el("button", { type: "button", text: "Show the next 100", onclick: () => more(next).catch((e) => box.append(el("p", { class: "problem", text: e.message }))) }) : null,
      ].filter(Boolean),
    );
  }
  await more(0);
}
