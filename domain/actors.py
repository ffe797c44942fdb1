"""Who does things: the actor of every command, and the roles of DESIGN.md."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from lfr_ledger.domain.errors import NotPermitted


class Role(StrEnum):
    PLANNER = "planner"
    WATCHLIST_MANAGER = "watchlist_manager"
    AUTHORISING_OFFICER = "authorising_officer"
    OPERATOR = "operator"
    OFFICER = "officer"
    MATCHER = "matcher"
    OVERSIGHT = "oversight"
    ANALYST = "analyst"
    ADMIN = "admin"


# Police ranks in ascending order; the policy names the minimum for each authority.
RANKS: tuple[str, ...] = (
    "constable",
    "sergeant",
    "inspector",
    "chief_inspector",
    "superintendent",
    "chief_superintendent",
    "assistant_chief_constable",
    "deputy_chief_constable",
    "chief_constable",
)


def rank_at_least(rank: str | None, minimum: str) -> bool:
    if rank not in RANKS:
        return False
    return RANKS.index(rank) >= RANKS.index(minimum)


# The shape of an actor's id, the one rule for every way in (a bearer token's `sub`, a console
# session opened from one): a staff or service number, or an identity provider's subject
# ("auth0|5f7c…", "jane.doe@force.police.uk"). The id is written into the log for good and
# shown in consoles and exports, so no white space, control character, markup or non-ASCII
# look-alike, and no first character a spreadsheet reads as the start of a formula.
ACTOR_ID_RULE = (
    "1 to 128 of the characters A-Z a-z 0-9 . _ : @ / + | = ~ -, beginning with a letter or digit"
)
_ACTOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+|=~-]{0,127}")


def is_actor_id(text: str) -> bool:
    """Whether `text` has the shape of an actor's id (`ACTOR_ID_RULE`)."""
    return _ACTOR_ID.fullmatch(text) is not None


@dataclass(frozen=True)
class Actor:
    """The person or service account behind a command, as the identity provider vouched.

    `id` is a staff or service number, not a name: the event log must stay publishable to
    oversight without naming junior staff.
    """

    id: str
    role: Role
    rank: str | None = None
    force: str | None = None
    deployment_id: str | None = None  # matcher accounts are bound to one deployment
    # The oversight body an oversight reader acts for (its code, as its grants name it); None
    # for every other role, and for an oversight reader acting for no body (see
    # `domain/oversight_grant.py`). Events recorded before bodies existed decode with None.
    body: str | None = None

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise NotPermitted(f"this needs the role {allowed}; the actor's role is {self.role}")

    def as_dict(self) -> dict[str, str | None]:
        data = {
            "id": self.id,
            "role": self.role.value,
            "rank": self.rank,
            "force": self.force,
            "deployment_id": self.deployment_id,
        }
        # Only when set: an actor without a body is stored exactly as before bodies existed.
        if self.body is not None:
            data["body"] = self.body
        return data

    @classmethod
    def from_dict(cls, data: dict[str, str | None]) -> Actor:
        return cls(
            id=str(data["id"]),
            role=Role(str(data["role"])),
            rank=data.get("rank"),
            force=data.get("force"),
            deployment_id=data.get("deployment_id"),
            body=data.get("body"),
        )
