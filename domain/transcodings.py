"""How value objects travel through the event store's JSON transcoder."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.actors import Actor
from domain.alert import Outcome
from domain.values import Camera, DeploymentPlan, Location, PublicNotice


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


def _dataclass_transcoding(cls: type[Any], name: str) -> Transcoding:
    """Fields by name; lists come back as tuples because the value objects hold tuples."""

    class _DataclassAsDict(Transcoding):
        type = cls

        def encode(self, obj: Any) -> dict[str, Any]:
            return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

        def decode(self, data: dict[str, Any]) -> Any:
            return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

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
