"""Reports of the oversight tools, made JSON-friendly in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID


def plain(value: Any) -> Any:
    """`value` with ids and times as strings, recursively, for JSON output."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
