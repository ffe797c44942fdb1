"""A verified token's claims, mapped to the ledger's Actor by the configuration: the staff
number from the named claim (OIDC's `sub` is usually an opaque id, and the log must name a
staff number), the role from the directory groups, rank, force and oversight body as named.

A person in groups mapped to several roles chooses one at sign-in (the refusal page offers
each); a bearer token cannot choose, so it is refused as ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.exceptions import NotAuthorizedException

from lfr_ledger.api.auth import BODY_CLAIM, actor_from_claims
from lfr_ledger.api.oidc.config import OidcConfig
from lfr_ledger.domain.actors import ACTOR_ID_RULE, Actor, Role, is_actor_id


@dataclass
class SignInRefused(Exception):
    """Why a sign-in (or a provider's bearer token) is refused, in words a person can act on.
    Never carries a claim's value: it may be shown, and its kind may be logged."""

    status: int
    kind: str
    title: str
    detail: str
    remedy: str = ""
    # The roles a person may choose between, when their groups map to several.
    roles: tuple[Role, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        return self.detail


def mapped_roles(claims: dict[str, Any], config: OidcConfig) -> tuple[Role, ...]:
    """The distinct roles the claims' groups map to, in the mapping file's order. A single
    group may come as a string (ADFS sends one value so)."""
    groups = claims.get(config.groups_claim)
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return ()
    held = {g for g in groups if isinstance(g, str)}
    found: list[Role] = []
    for group, role in config.roles.items():
        if group in held and role not in found:
            found.append(role)
    return tuple(found)


def actor_from_oidc_claims(
    claims: dict[str, Any], config: OidcConfig, *, chosen: Role | None = None
) -> Actor:
    staff = claims.get(config.staff_number_claim)
    if not isinstance(staff, str | int) or isinstance(staff, bool) or not str(staff).strip():
        raise SignInRefused(
            403,
            "oidc-no-staff-number",
            "Your account has no staff number",
            f"{config.display_name} did not send the claim {config.staff_number_claim!r}, "
            "which the ledger records as your staff number.",
            "Ask whoever runs your force's sign-in to release that claim to the ledger.",
        )
    staff_number = str(staff).strip()
    if not is_actor_id(staff_number):
        raise SignInRefused(
            403,
            "oidc-bad-staff-number",
            "Your staff number cannot be recorded",
            f"The claim {config.staff_number_claim!r} is not a staff or service number the "
            f"ledger can record: {ACTOR_ID_RULE}.",
            "Ask whoever runs your force's sign-in to map your staff number to that claim.",
        )
    roles = mapped_roles(claims, config)
    if not roles:
        raise SignInRefused(
            403,
            "oidc-no-role",
            "Your account has no role in the ledger",
            f"You signed in to {config.display_name}, but none of your groups is one the "
            "ledger maps to a role, so the ledger cannot let you in.",
            "If your work needs the ledger, ask your LFR lead to add you to the right group "
            "(operators, officers, planners and so on); then sign in again.",
        )
    if chosen is not None and chosen in roles:
        role = chosen
    elif len(roles) == 1:
        role = roles[0]
    else:
        raise SignInRefused(
            403,
            "oidc-role-ambiguous",
            "Choose the role you are signing in as",
            "Your groups give you more than one role in the ledger, and each session has one.",
            "Choose one below; you will pass through the sign-in again without typing anything.",
            roles=roles,
        )
    ledger_claims: dict[str, Any] = {"sub": staff_number, "role": role.value}
    if config.rank_claim:
        rank = claims.get(config.rank_claim)
        if isinstance(rank, str) and rank.strip():
            # "Chief Inspector" in a directory is the policy's "chief_inspector".
            ledger_claims["rank"] = "_".join(rank.strip().lower().split())
    if config.force_claim:
        ledger_claims["force"] = _text(claims.get(config.force_claim))
    if config.oversight_body_claim and role == Role.OVERSIGHT:
        ledger_claims[BODY_CLAIM] = _text(claims.get(config.oversight_body_claim))
    try:
        return actor_from_claims(ledger_claims)
    except NotAuthorizedException as refused:
        raise SignInRefused(
            403,
            "oidc-claims-refused",
            "Your account's details cannot be used",
            str(refused.detail),
            "Ask whoever runs your force's sign-in to check the claims the ledger is sent.",
        ) from None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
