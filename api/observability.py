"""What the people who run the service see: Prometheus metrics and JSON log lines. Counts,
route templates, ids and states only, never a record's contents or a concrete path (paths and
queries carry record ids and stated purposes). A running deployment's cameras are labelled by
their ids, with what their latest heartbeat counted."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.clock import utcnow

if TYPE_CHECKING:
    from lfr_ledger.oversight.retention.destruction import Retention

# Requests and their latency accumulate for the life of the process, whichever app served them.
REQUESTS_REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "lfr_http_requests",
    "Requests answered, by method, route template and status",
    ["method", "route", "status"],
    registry=REQUESTS_REGISTRY,
)
LATENCY = Histogram(
    "lfr_http_request_seconds",
    "Time to answer, by method and route template (commands are the POSTs)",
    ["method", "route"],
    registry=REQUESTS_REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def observe_request(method: str, route: str, status: int | str, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def scrape(
    settings: Settings, projection_failures: int, retention: Retention | None = None
) -> bytes:
    """The process's request counters, then gauges read fresh from their sources of truth."""
    from lfr_ledger.eventlog.checkpoint import latest_checkpoint_path, read_checkpoint
    from lfr_ledger.projections.catch_up import status

    registry = CollectorRegistry()
    Gauge(
        "lfr_projection_failures",
        "Events a projection could not take and skipped (see lfr projections status)",
        registry=registry,
    ).set(projection_failures)
    lag = Gauge(
        "lfr_projection_lag_events",
        "Events recorded that a view has not applied yet",
        ["view"],
        registry=registry,
    )
    for view in status(settings):
        lag.labels(view["name"]).set(view["lag"])
    _camera_gauges(settings, registry)
    if retention is not None:
        _retention_backlog(retention, registry)
    latest = latest_checkpoint_path(settings)
    if latest is not None:  # absent before the first: a 0 would read as "just signed"
        signed = datetime.fromisoformat(str(read_checkpoint(latest)["created_at"]))
        Gauge(
            "lfr_checkpoint_age_seconds",
            "Seconds since this node signed its latest checkpoint",
            registry=registry,
        ).set(max(0.0, (utcnow() - signed).total_seconds()))
    _reverify_gauges(settings, registry)
    return generate_latest(REQUESTS_REGISTRY) + generate_latest(registry)


def _reverify_gauges(settings: Settings, registry: CollectorRegistry) -> None:
    """The rolling re-verification, per chained events table: how long since a pass last
    found the whole log intact (absent before the first: a 0 would read as "just now"), the
    events its slices re-hashed, and the row its last pass stopped at (0 when none: alert on
    anything else)."""
    from lfr_ledger.projections.reverification import all_rolling

    labels = ["events_table"]
    age = Gauge(
        "lfr_reverify_last_full_pass_age_seconds",
        "Seconds since a rolling re-verification pass last re-hashed the whole log intact",
        labels,
        registry=registry,
    )
    rehashed = Counter(
        "lfr_reverify_events_rehashed",
        "Events the rolling re-verification re-hashed, over all its passes",
        labels,
        registry=registry,
    )
    bad = Gauge(
        "lfr_reverify_first_bad_id",
        "The tampered row the last finished rolling pass stopped at; 0 when it found none",
        labels,
        registry=registry,
    )
    position = Gauge(
        "lfr_reverify_pass_rehashed_to",
        "The pass under way has re-hashed events 1 to this id",
        labels,
        registry=registry,
    )
    for state in all_rolling(settings):
        table = state.events_table
        if state.intact_at is not None:
            age.labels(table).set(max(0.0, (utcnow() - state.intact_at).total_seconds()))
        rehashed.labels(table).inc(state.rehashed_total)
        done = state.finished
        # -1: tampering found that no row locates (the chain table dropped whole, say).
        bad.labels(table).set(state.first_bad_id or (0 if done is None or done.ok else -1))
        position.labels(table).set(state.anchor_id)


def _camera_gauges(settings: Settings, registry: CollectorRegistry) -> None:
    """Each running deployment's cameras, as their latest heartbeat reported: frames over its
    interval, and whether the video source was lost when it was sent. Labelled by deployment
    and camera id (neither is personal data); a deployment that ended drops out."""
    from lfr_ledger.projections.camera_health import latest_heartbeats
    from lfr_ledger.projections.running_deployments import running_deployments

    labels = ["deployment_id", "camera_id"]
    frames = {
        kind: Gauge(
            f"lfr_camera_frames_{kind}",
            f"Frames {what} over the interval of the camera's latest heartbeat",
            labels,
            registry=registry,
        )
        for kind, what in (
            ("offered", "the video source delivered"),
            ("processed", "the matcher analysed"),
            ("dropped", "the matcher skipped"),
        )
    }
    age = Gauge(
        "lfr_camera_heartbeat_age_seconds",
        "Seconds since the camera's matcher last sent a heartbeat (a stalled or dead matcher "
        "shows here before the camera is recorded silent)",
        labels,
        registry=registry,
    )
    lost = Gauge(
        "lfr_camera_source_lost",
        "1 when the camera's latest heartbeat reported its video source lost (a gap still open)",
        labels,
        registry=registry,
    )
    for deployment_id in running_deployments(settings):
        for camera_id, beat in latest_heartbeats(settings, deployment_id).items():
            key = (str(deployment_id), camera_id)
            frames["offered"].labels(*key).set(beat.frames_offered)
            frames["processed"].labels(*key).set(beat.frames_processed)
            frames["dropped"].labels(*key).set(beat.frames_dropped)
            lost.labels(*key).set(int(any(g.ended_at is None for g in beat.source_gaps)))
            age.labels(*key).set(max(0.0, (utcnow() - beat.received_at).total_seconds()))


def _retention_backlog(retention: Retention, registry: CollectorRegistry) -> None:
    """Records past their retention period and not yet destroyed (held images excepted): 0
    while retention keeps up. What a retention run would destroy now, by its own plan."""
    plan = retention.plan(utcnow(), due_only=True)
    overdue = Gauge(
        "lfr_retention_overdue_records",
        "Records whose retention period has passed that are not destroyed yet, by kind",
        ["kind"],
        registry=registry,
    )
    overdue.labels("watchlist").set(len(plan.due_watchlists()))
    overdue.labels("alert_images").set(len(plan.due_alert_images()))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and what the record carries in
    `extra` (the access log: request id, method, route, status, milliseconds)."""

    FIELDS = ("request_id", "method", "route", "status", "ms")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        return json.dumps(line, ensure_ascii=False)
