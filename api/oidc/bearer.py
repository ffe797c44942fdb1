"""API bearer tokens when OIDC is configured: the provider's access tokens, verified against
its published keys and mapped as a sign-in's claims are; every other token, as before, by the
embedded verifier (`lfr token`, the matchers' tokens, the one-time links).

The token's unverified `iss` only chooses the verifier; each verifier then checks everything,
its own issuer included.
"""

from __future__ import annotations

from typing import Any

import jwt
from litestar.exceptions import NotAuthorizedException, ServiceUnavailableException

from lfr_ledger.api.auth import LEEWAY_SECONDS, TokenVerifier
from lfr_ledger.api.oidc.claims import SignInRefused, actor_from_oidc_claims
from lfr_ledger.api.oidc.config import OidcConfig
from lfr_ledger.api.oidc.provider import ProviderKeys
from lfr_ledger.api.oidc.tokens import ACCESS_TOKEN, verify_provider_token
from lfr_ledger.domain.actors import ACTOR_ID_RULE, Actor


def _unauthorised(detail: str) -> NotAuthorizedException:
    return NotAuthorizedException(
        detail=detail, headers={"WWW-Authenticate": 'Bearer realm="lfr-ledger"'}
    )


class ProviderOrEmbeddedVerifier:
    def __init__(self, embedded: TokenVerifier, config: OidcConfig, keys: ProviderKeys) -> None:
        self.embedded = embedded
        self.config = config
        self.keys = keys

    @property
    def maximum_lifetime_minutes(self) -> int:
        return self.embedded.maximum_lifetime_minutes

    def actor(self, token: str) -> Actor:
        return self.verified(token)[0]

    def verified(self, token: str) -> tuple[Actor, float]:
        try:
            issuer: Any = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError:
            issuer = None  # the embedded verifier says what is wrong with it
        if issuer == self.config.issuer:
            return self._from_provider(token)
        if (
            issuer is not None
            and self.embedded.issuer is not None
            and issuer != self.embedded.issuer
        ):
            raise _unauthorised(
                f"the bearer token was issued neither by {self.config.issuer!r} (the sign-in "
                f"provider) nor by {self.embedded.issuer!r} (this ledger)"
            )
        return self.embedded.verified(token)

    def _from_provider(self, token: str) -> tuple[Actor, float]:
        audience = self.config.api_audience
        if audience is None:
            raise _unauthorised(
                f"this ledger does not accept {self.config.display_name}'s tokens as bearer "
                "tokens (its OIDC configuration sets no [api] audience)"
            )
        try:
            claims = verify_provider_token(
                token, keys=self.keys, config=self.config, audience=audience, what=ACCESS_TOKEN
            )
            actor = actor_from_oidc_claims(claims, self.config)
        except SignInRefused as refused:
            if refused.status == 503:
                raise ServiceUnavailableException(detail=refused.detail) from None
            if refused.kind == "oidc-role-ambiguous":
                roles = ", ".join(r.value for r in refused.roles)
                raise _unauthorised(
                    f"the access token's groups map to several roles ({roles}); a bearer "
                    "token must map to exactly one"
                ) from None
            raise _unauthorised(self._words_for(refused)) from None
        # The policy's maximum lifetime holds for the provider's tokens as for ours.
        limit = self.maximum_lifetime_minutes * 60
        if claims["exp"] - claims["iat"] > limit + LEEWAY_SECONDS:
            raise _unauthorised(
                "the access token lives longer than the policy's maximum of "
                f"{self.maximum_lifetime_minutes} minutes; shorten its lifetime at the provider"
            )
        return actor, float(claims["exp"])

    def _words_for(self, refused: SignInRefused) -> str:
        """A sign-in's refusal (said to a person) as a bearer token's (said to a client)."""
        claim = self.config.staff_number_claim
        return {
            "oidc-no-role": f"the access token's groups (claim {self.config.groups_claim!r}) "
            "map to no role in the ledger",
            "oidc-no-staff-number": f"the access token lacks the claim {claim!r}, the staff "
            "number the ledger records",
            "oidc-bad-staff-number": f"the access token's {claim!r} is not a staff or service "
            f"number: {ACTOR_ID_RULE}",
        }.get(refused.kind, refused.detail)
