"""Facets: an aggregate assembled from mixins, one concern each, whose `@event` methods still
become events of the aggregate itself.

The library defines an event class only for `@event` methods found in the aggregate class's own
namespace: a method decorated in a plain mixin stays unregistered, and calling it fails with
"Event class not registered for event decorator". A facet (a subclass of `AggregateFacet`)
therefore hands its decorated methods to the aggregate that lists it among its bases, just
before the library reads that aggregate's namespace. Each event class is then defined, nested
and registered exactly as if its method were written in the aggregate (`Deployment.Started`,
with the topic its decorator names), so stored events decode as before the split.

A facet belongs to one aggregate: a decorated method triggers the one event class it was
registered for, so assembling a facet into a second aggregate is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, CommandMethodDecorator, MetaAggregate

if TYPE_CHECKING:
    # Type checkers see a facet as the aggregate it becomes part of (its `id`, its events);
    # at run time it is a plain mixin, so the library defines nothing on it.
    _FacetBase = Aggregate
else:
    _FacetBase = object

# Each facet, and the aggregate it was assembled into.
_assembled_into: dict[type, type] = {}


class AggregateFacet(_FacetBase):
    """A mixin holding one concern of an aggregate: its commands and the `@event` methods that
    record them. List facets before `Aggregate` among the aggregate's bases."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if isinstance(cls, MetaAggregate):
            _adopt_event_methods(cls)
        super().__init_subclass__(**kwargs)


def _adopt_event_methods(aggregate: type) -> None:
    """Puts every facet's `@event` methods into the aggregate's own namespace, nearest facet
    first (as attribute lookup would find them), so the library defines their events there."""
    for facet in aggregate.__mro__[1:]:
        if not _is_facet(facet):
            continue
        owner = _assembled_into.setdefault(facet, aggregate)
        if owner is not aggregate and issubclass(aggregate, owner):
            continue  # a subclass inherits the events its base aggregate defined
        if owner is not aggregate:
            raise TypeError(
                f"facet {facet.__qualname__} is part of {owner.__qualname__} already; "
                f"{aggregate.__qualname__} cannot trigger its events"
            )
        for name, value in vars(facet).items():
            if (
                isinstance(value, CommandMethodDecorator)
                and not name.startswith("__")
                and name not in vars(aggregate)
            ):
                setattr(aggregate, name, value)


def _is_facet(cls: type) -> bool:
    return (
        cls is not AggregateFacet
        and issubclass(cls, AggregateFacet)
        and not isinstance(cls, MetaAggregate)
    )
