// Signing in: a pasted token, or the one-time code of a link, becomes a session cookie.
import { api, bindForm } from "./console.js";

for (const form of document.querySelectorAll("#sign-in-token, #sign-in-link")) {
  bindForm(form, {
    path: "/console/sign-in",
    body: async (f) => (f.dataset.code ? { code: f.dataset.code } : { token: f.elements.token.value.trim() }),
    done: (reply) => location.assign(reply.next),
  });
}
void api;
