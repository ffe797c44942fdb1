"""Command latency with two API nodes under a steady fleet load (issue 15), on the store
`bench/national.py` filled with a fleet's history.

Two real `lfr serve` processes share the PostgreSQL schema; requests go to them in turn, as a
load balancer would send them. The load is open-loop (each request has its time, and its latency
counts from that time, so a stalled node cannot slow the load down and hide its own stall):
- 50 vans, two cameras each, as remote matcher nodes: each camera reads its deployment's live
  terms every second, sends a heartbeat every 30 s and its face count every minute;
- alerts, each adjudicated by an operator two seconds later, at `ALERTS_PER_SECOND` across the
  fleet. The issue asks for ten times the seed's rate (13 alerts in four van-days: 33 a van-day
  at ten times, 0.06 a second for 50 vans over 8 hours); one a second is 17 times that again,
  so that a run of a minute holds enough alerts for a p99.

The load generator runs on the same two cores as both nodes and the database: the figures are
an upper bound on what separate machines would show.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.api import start_server
from bench.common import percentiles
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import (
    AUTHORITY,
    SIGNAGE,
    plan,
    register_documents,
    subject,
    train,
)
from lfr_ledger.api.demo.seed import (
    AUTHORISING_OFFICER,
    OPERATOR,
    PLANNER,
    WATCHLIST_MANAGER,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.clock import utcnow
from lfr_ledger.domain.values import Camera, Location, PublicNotice

VANS = 50
CAMERAS = ("cam-1", "cam-2")
TERMS_EVERY_S = 1.0
HEARTBEAT_EVERY_S = 30.0
COUNT_EVERY_S = 60.0
ALERTS_PER_SECOND = 1.0
ADJUDICATE_AFTER_S = 2.0


@dataclass(frozen=True)
class Van:
    deployment_id: uuid.UUID
    entry_id: uuid.UUID
    token: str


@dataclass(frozen=True)
class Request:
    at: float  # seconds after the load starts
    kind: str
    method: str
    path: str
    body: dict[str, Any] | None
    token: str
    key: str | None = None  # Idempotency-Key


def live_fleet(settings: Settings, secret: str) -> list[Van]:
    """Fifty deployments live now, each with two cameras and one watchlist entry."""
    ledger = build_ledger(settings)
    try:
        register_documents(ledger)
        train(ledger, OPERATOR.id, "adjudicate")
        operation = ledger.open_operation(PLANNER, name="Fleet today", force="demo", purpose="load")
        start = ledger.clock() - timedelta(minutes=15)
        vans = []
        for n in range(VANS):
            deployment = ledger.propose_deployment(
                PLANNER,
                plan(
                    operation,
                    ledger.policy.version,
                    location=Location(f"High Street {n}", f"Town {n}", "town_centre"),
                    starts_at=start,
                    ends_at=start + timedelta(hours=8),
                    intelligence_case=f"IC-LIVE-{n}",
                    cameras=tuple(Camera(c, c) for c in CAMERAS),
                    public_notice=PublicNotice("signage", start - timedelta(days=1)),
                ),
            )
            ledger.authorise_deployment(
                AUTHORISING_OFFICER, deployment, authority_ref=f"A-LIVE-{n}", **AUTHORITY
            )
            entry = ledger.enrol(WATCHLIST_MANAGER, deployment, subject(1000 + n))
            ledger.review_watchlist(
                AUTHORISING_OFFICER, deployment, confirmed_count=1, not_excessive=True
            )
            ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
            ledger.start_deployment(OPERATOR, deployment)
            token = issue_token(
                Settings(jwt_secret=secret),
                role="matcher",
                sub=f"matcher-van-{n}",
                deployment_id=str(deployment),
            )
            vans.append(Van(deployment, entry, token))
        return vans
    finally:
        ledger.close()


def schedule(vans: list[Van], operator: str, seconds: float) -> list[Request]:
    """Every request of the run, with its time: the cameras' reads and reports spread evenly
    over their periods, the alerts evenly over the run."""
    requests: list[Request] = []
    # The server's ledger reads the domain's clock: requests are stamped by the same one.
    now = utcnow()
    cameras = [(van, camera) for van in vans for camera in CAMERAS]
    for i, (van, camera) in enumerate(cameras):
        phase = i / len(cameras)
        base = f"/deployments/{van.deployment_id}"
        t = phase * TERMS_EVERY_S
        while t < seconds:
            requests.append(Request(t, "live-terms", "GET", f"{base}/live-terms", None, van.token))
            t += TERMS_EVERY_S
        t = phase * HEARTBEAT_EVERY_S
        while t < seconds:
            body = {"camera_id": camera, "frames_per_second": 10.0, "faces_seen": 40}
            body |= {"interval_seconds": HEARTBEAT_EVERY_S, "frames_offered": 300}
            body |= {"frames_processed": 300}
            requests.append(Request(t, "heartbeat", "POST", f"{base}/heartbeat", body, van.token))
            t += HEARTBEAT_EVERY_S
        t, k = phase * COUNT_EVERY_S, 0
        while t < seconds:
            # The minute just closed when the count is sent: a count must lie in the live time
            # (the vans went live moments ago) and follow the camera's last (issue 23).
            period = now.replace(second=0, microsecond=0) - timedelta(minutes=1 - k)
            body = {
                "camera_id": camera,
                "period_start": period.isoformat(),
                "period_end": (period + timedelta(minutes=1)).isoformat(),
                "count": 40 + i % 50,
            }
            key = str(uuid.uuid4())
            path = f"{base}/faces-counted"
            requests.append(Request(t, "faces-counted", "POST", path, body, van.token, key))
            t, k = t + COUNT_EVERY_S, k + 1
    alerts = int(seconds * ALERTS_PER_SECOND)
    for a in range(alerts):
        van = vans[a % len(vans)]
        t = a / ALERTS_PER_SECOND
        alert_id = str(uuid.uuid4())
        body = {
            "camera_id": CAMERAS[a % 2],
            "entry_id": str(van.entry_id),
            "similarity": 0.72,
            "captured_at": (now - timedelta(seconds=5)).isoformat(),
            "alert_id": alert_id,
        }
        path = f"/deployments/{van.deployment_id}/alerts"
        requests.append(Request(t, "alert", "POST", path, body, van.token, alert_id))
        if t + ADJUDICATE_AFTER_S < seconds:
            decision = {
                "decision": "no_match",
                "reason": "not the person on the watchlist",
                "false_alert_factors": ["subject.lookalike"],
            }
            requests.append(
                Request(
                    t + ADJUDICATE_AFTER_S,
                    "adjudication",
                    "POST",
                    f"/alerts/{alert_id}/adjudication",
                    decision,
                    operator,
                    str(uuid.uuid4()),
                )
            )
    return sorted(requests, key=lambda r: r.at)


async def drive(urls: list[str], requests: list[Request]) -> dict[str, Any]:
    latencies: dict[str, list[float]] = defaultdict(list)
    late: list[float] = []
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
    clients = [httpx.AsyncClient(base_url=u, limits=limits, timeout=60) for u in urls]

    async def send(number: int, request: Request, started: float) -> None:
        await asyncio.sleep(max(0.0, started + request.at - time.perf_counter()))
        late.append(time.perf_counter() - started - request.at)
        headers = {"Authorization": f"Bearer {request.token}"}
        if request.key:
            headers["Idempotency-Key"] = request.key
        client = clients[number % len(clients)]  # in turn, as a load balancer would
        try:
            response = await client.request(
                request.method, request.path, json=request.body, headers=headers
            )
            status = str(response.status_code)
        except httpx.HTTPError as error:
            status = type(error).__name__
        latencies[request.kind].append((time.perf_counter() - started - request.at) * 1000)
        statuses[f"{request.kind} {status}"] += 1

    try:
        for client in clients:
            await client.get("/health")
        started = time.perf_counter() + 0.5
        await asyncio.gather(*(send(i, r, started) for i, r in enumerate(requests)))
        seconds = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    commands = [x for kind, xs in latencies.items() if kind != "live-terms" for x in xs]
    return {
        "seconds": round(seconds, 1),
        "requests_per_second": round(len(requests) / seconds, 1),
        "commands_ms": percentiles(commands),
        "by_kind_ms": {kind: percentiles(xs) for kind, xs in sorted(latencies.items())},
        "generator_late_ms": percentiles([x * 1000 for x in late]),
        "statuses": dict(sorted(statuses.items())),
    }


def fleet_load(settings: Settings, seconds: float = 60.0) -> dict[str, Any]:
    """The fleet's load on two fresh API nodes over this store: command latency by kind."""
    secret = secrets.token_urlsafe(32)
    vans = live_fleet(settings, secret)
    operator = issue_token(
        Settings(jwt_secret=secret),
        role="operator",
        sub=OPERATOR.id,
        rank=str(OPERATOR.rank),
        force=str(OPERATOR.force),
    )
    assert settings.database_url is not None
    store = {"LFR_DATABASE_URL": settings.database_url}
    if settings.postgres_schema:
        store["LFR_POSTGRES_SCHEMA"] = settings.postgres_schema
    nodes = []
    work = Path(tempfile.mkdtemp(prefix="lfr-nodes-"))
    try:
        for name in ("a", "b"):
            data_dir = work / name
            # The nodes share the fleet's keys (checkpoint signing key), as a force's would.
            if (settings.data_dir / "keys").exists():
                shutil.copytree(settings.data_dir / "keys", data_dir / "keys")
            # And its vault's KEK, the key file beside the data folder (issue 27): without it
            # a node cannot open the vault and never starts.
            if settings.kek is None and settings.default_kek_path.exists():
                node_kek = Settings(data_dir=data_dir).default_kek_path
                shutil.copy2(settings.default_kek_path, node_kek)
            # Without their retention jobs: the generated year lies in the past, so every record
            # of it is due, and destroying a year's backlog is not the fleet's steady load
            # (retention is measured on its own, with a day's worth due).
            nodes.append(start_server(data_dir, secret, store, ("--no-retention",)))
        requests = schedule(vans, operator, seconds)
        result = asyncio.run(drive([url for _, url in nodes], requests))
        return {
            "vans": len(vans),
            "api_nodes": len(nodes),
            "alerts_per_second": ALERTS_PER_SECOND,
            **result,
        }
    finally:
        for process, _ in nodes:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
