"""Operations: what a planner opens, and the paged list of operations (built by
`projections/lists.py` from the views; no personal data)."""

from __future__ import annotations

from lfr_ledger.api.schemas.base import ShortText, Struct, Text
from lfr_ledger.projections.lists import (
    DeploymentList,
    DeploymentRow,
    OperationList,
    OperationRow,
)

__all__ = [
    "DeploymentList",
    "DeploymentRow",
    "OperationIn",
    "OperationList",
    "OperationRow",
]


class OperationIn(Struct):
    name: ShortText
    force: ShortText
    purpose: Text
