"""How value objects travel through the event store's JSON transcoder."""

from __future__ import annotations

import base64
import dataclasses
import typing
from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.alert import Outcome
from lfr_ledger.domain.values import Camera, DeploymentPlan, Location, PublicNotice


class BytesAsBase64(Transcoding):
    type = bytes
    name = "b64"

    def encode(self, obj: bytes) -> str:
        return base64.b64encode(obj).decode("ascii")

    def decode(self, data: str) -> bytes:
        return base64.b64decode(data)


class ActorAsDict(Transcoding):
    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> Actor:
        return Actor.from_dict(data)


def _enum_of(annotation: Any) -> type[Enum] | None:
    """The Enum a field holds (`E` or `E | None`), if any."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            return candidate
    return None


def _dataclass_transcoding(cls: type[Any], name: str) -> Transcoding:
    """Fields by name. JSON keeps only the values of enums and turns tuples into lists, so
    decoding restores both: a reader gets back exactly the types the value object declares."""
    enums = {
        field: enum
        for field, annotation in typing.get_type_hints(cls).items()
        if (enum := _enum_of(annotation)) is not None
    }

    class _DataclassAsDict(Transcoding):
        type = cls

        def encode(self, obj: Any) -> dict[str, Any]:
            return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

        def decode(self, data: dict[str, Any]) -> Any:
            values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
            for field, enum in enums.items():
                if values.get(field) is not None:
                    values[field] = enum(values[field])
            return cls(**values)

    _DataclassAsDict.name = name
    return _DataclassAsDict()


def register_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(BytesAsBase64())
    transcoder.register(ActorAsDict())
    for cls, name in (
        (Location, "location"),
        (Camera, "camera"),
        (PublicNotice, "public_notice"),
        (DeploymentPlan, "deployment_plan"),
        (Outcome, "outcome"),
    ):
        transcoder.register(_dataclass_transcoding(cls, name))
