// A real OpenID Provider for the OIDC tests: panva's certified `oidc-provider`, pinned by
// package-lock.json, started on a loopback port by tests/e2e/test_e2e_oidc.py.
//
// Usage: node provider.mjs SETUP.json
// SETUP.json (written by the test): issuer, port, jwks (private signing keys: the test rewrites
// the file and restarts the provider to rotate them), clients, accounts ({id: claims}), the API's
// resource indicator and cookie key. Prints "ready <issuer>" once it listens.
//
// Its login page is the provider's own devInteractions form (any password; the login names the
// account). Consent is not asked of the ledger's clients, as a force's own provider would not
// ask its staff to consent to their own console.
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const setup = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = setup.accounts;
const CLAIMS = ['name', 'employee_id', 'groups', 'rank', 'force', 'oversight_body'];

function account(id) {
  const claims = accounts[id];
  if (!claims) return undefined;
  return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
}

// The page a sign-out asks the user to confirm (the default pulls a web font from elsewhere).
async function logoutSource(ctx, form) {
  ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign out</title></head>
<body><h1>Sign out of the test provider?</h1>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button></body></html>`;
}

const provider = new Provider(setup.issuer, {
  clients: setup.clients,
  jwks: setup.jwks,
  cookies: { keys: [setup.cookie_key] },
  pkce: { required: () => true, methods: ['S256'] },
  scopes: ['openid', 'profile'],  // 'ledger' is the API's (resource) scope, not an OIDC one
  claims: { openid: ['sub'], profile: CLAIMS },
  // The scope's claims go into the ID token itself, as Keycloak, Entra ID and ADFS put them.
  conformIdTokenClaims: false,
  ttl: { IdToken: 600, AccessToken: 600, AuthorizationCode: 60, Session: 3600, Grant: 3600 },
  findAccount: async (ctx, id) => account(id),
  async loadExistingGrant(ctx) {
    const found = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (found) return ctx.oidc.provider.Grant.find(found);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile');
    grant.addOIDCClaims(CLAIMS);
    grant.addResourceScope(setup.api_resource, 'ledger');
    await grant.save();
    return grant;
  },
  // An access token for the ledger's API is a JWT for its audience, carrying the account's
  // staff number and groups, as a provider's token mapper would put them.
  async extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
    const { employee_id: employeeId, groups } = accounts[token.accountId] ?? {};
    return { employee_id: employeeId, groups };
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true, logoutSource },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => setup.api_resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: 'ledger',
        audience: setup.api_resource,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});

// What went wrong, for the test's log (the provider answers only "server_error").
for (const event of ['server_error', 'grant.error', 'authorization.error', 'end_session.error']) {
  provider.on(event, (ctx, error) => process.stderr.write(`${event}: ${error} ${error.error_description ?? ''}\n`));
}

const server = provider.listen(setup.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${setup.issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
