"""OpenID Connect sign-in for the console, and the provider's tokens as API bearer tokens.

`config` reads the mapping file (LFR_OIDC_CONFIG), `claims` maps a verified token's claims to
an Actor, `provider` keeps the issuer's discovery document and keys, `tokens` verifies ID and
access tokens against them, `flow` makes and checks one sign-in (PKCE, state, nonce, the code
exchange), `bearer` chooses between the provider and the embedded verifier for a bearer token,
and `controller` holds the console's routes. Nothing here opens a session but the way
POST /console/sign-in does: from a verified token, through the session store.
"""
