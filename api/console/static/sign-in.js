// Signing in: a pasted token, or the one-time code of a link, becomes a session cookie. A link
// that cannot sign in (used, expired, unknown) is refused beside the form, never by a redirect.
import { bindForm } from "./console.js";
import { timeEl } from "./format.js";

// The server writes instants as UTC; they are shown as every console time is (UK local).
for (const node of document.querySelectorAll("time[datetime]")) node.replaceWith(timeEl(node.dateTime));

for (const form of document.querySelectorAll("#sign-in-token, #sign-in-link")) {
  bindForm(form, {
    path: "/console/sign-in",
    body: async (f) => (f.dataset.code ? { code: f.dataset.code } : { token: f.elements.token.value.trim() }),
    done: (reply) => location.assign(reply.next),
  });
}
