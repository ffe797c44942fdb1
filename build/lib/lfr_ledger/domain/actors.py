"""Who does things: the actor of every command, and the roles of DESIGN.md."""

from __future__ import annotations

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

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise NotPermitted(f"this needs the role {allowed}; the actor's role is {self.role}")

    def as_dict(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "role": self.role.value,
            "rank": self.rank,
            "force": self.force,
            "deployment_id": self.deployment_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, str | None]) -> Actor:
        return cls(
            id=str(data["id"]),
            role=Role(str(data["role"])),
            rank=data.get("rank"),
            force=data.get("force"),
            deployment_id=data.get("deployment_id"),
        )
