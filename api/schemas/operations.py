"""Operations: what a planner opens."""

from __future__ import annotations

from lfr_ledger.api.schemas.base import ShortText, Struct, Text


class OperationIn(Struct):
    name: ShortText
    force: ShortText
    purpose: Text
