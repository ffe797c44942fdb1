"""Issue 22: the deployment is assembled from facets (`domain/deployment/`), and every event a
facet records is still an event of `Deployment` itself, under the topic the log has always
stored, so a log written before the split decodes to the same classes."""

from __future__ import annotations

import dataclasses
import typing
from datetime import datetime

import pytest
from eventsourcing.domain import Aggregate, CanMutateAggregate, event
from eventsourcing.utils import get_topic, resolve_topic

from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.aggregate import Deployment
from lfr_ledger.domain.facets import AggregateFacet

# Written out, not derived: a renamed event class or topic must fail here, not pass silently.
STORED_TOPICS = {
    "Created": "lfr/Deployment.Created",
    "Proposed": "lfr/Deployment.Proposed",
    "Authorised": "lfr/Deployment.Authorised",
    "UrgentAuthorityConfirmed": "lfr/Deployment.UrgentAuthorityConfirmed",
    "Refused": "lfr/Deployment.Refused",
    "ThresholdChanged": "lfr/Deployment.ThresholdChanged",
    "WatchlistEntryAdded": "lfr/Deployment.WatchlistEntryAdded",
    "WatchlistReviewed": "lfr/Deployment.WatchlistReviewed",
    "WatchlistDestroyed": "lfr/Deployment.WatchlistDestroyed",
    "SignageConfirmed": "lfr/Deployment.SignageConfirmed",
    "Started": "lfr/Deployment.Started",
    "Paused": "lfr/Deployment.Paused",
    "Resumed": "lfr/Deployment.Resumed",
    "Ended": "lfr/Deployment.Ended",
    "PostDeploymentReviewed": "lfr/Deployment.PostDeploymentReviewed",
    "UrgentAuthorityLapsed": "lfr/Deployment.UrgentAuthorityLapsed",
    "CameraWentSilent": "lfr/Deployment.CameraWentSilent",
    "CameraReporting": "lfr/Deployment.CameraReporting",
    "BlueWalkPastRecorded": "lfr/Deployment.BlueWalkPastRecorded",
    "ResultsPublished": "lfr/Deployment.ResultsPublished",
    "PublicationOverdue": "lfr/Deployment.PublicationOverdue",
}


def _event_classes() -> dict[str, type]:
    return {
        name: value
        for name, value in vars(Deployment).items()
        if isinstance(value, type) and issubclass(value, CanMutateAggregate) and name != "Event"
    }


def test_every_event_of_the_deployment_keeps_its_stored_topic() -> None:
    assert get_topic(Deployment) == "lfr/Deployment"
    classes = _event_classes()
    assert {name: cls.TOPIC for name, cls in classes.items()} == STORED_TOPICS
    for name, cls in classes.items():
        assert cls.__qualname__ == f"Deployment.{name}"
        assert resolve_topic(STORED_TOPICS[name]) is cls
        assert get_topic(cls) == STORED_TOPICS[name]


def test_the_topic_vocabulary_names_every_event_but_the_unused_created() -> None:
    vocabulary = {v for k, v in vars(DeploymentTopic).items() if k.isupper()}
    assert vocabulary == set(STORED_TOPICS.values()) - {"lfr/Deployment.Created"}


def test_each_events_fields_resolve_where_the_event_is_defined() -> None:
    for name, cls in _event_classes().items():
        hints = typing.get_type_hints(cls)
        assert all(f.name in hints for f in dataclasses.fields(cls)), name


def test_a_facet_records_its_events_on_the_aggregate_and_belongs_to_one() -> None:
    class Named(AggregateFacet):
        @event("Renamed", topic="test/Thing.Renamed")
        def rename(self, *, name: str, at: datetime) -> None:
            self.name = name

    class Thing(Named, Aggregate):
        TOPIC = "test/Thing"

        class Created(Aggregate.Created):
            TOPIC = "test/Thing.Created"

        @event("Made", topic="test/Thing.Made")
        def __init__(self) -> None:
            self.name = ""

    thing = Thing()
    thing.rename(name="x", at=datetime(2026, 1, 1))
    assert thing.name == "x"
    renamed = thing.collect_events()[-1]
    assert type(renamed) is Thing.Renamed
    assert type(renamed).__qualname__.endswith("Thing.Renamed")
    assert resolve_topic("test/Thing.Renamed") is Thing.Renamed

    with pytest.raises(TypeError, match="is part of"):

        class Other(Named, Aggregate):
            TOPIC = "test/Other"

            class Created(Aggregate.Created):
                TOPIC = "test/Other.Created"
