"""API throughput: adjudications/s and latency under concurrent load, beside GET /health of the
same server process in the same run. Writes bench/results/api.json.

    .venv/bin/python bench/api.py [--alerts 2000] [--concurrency 16]

The server is a real `lfr serve` (uvicorn, one process, embedded SQLite) on loopback. Alerts are
recorded through the ledger before the server starts, so the measured phase is adjudication
alone. Client and server share this machine's cores: the ratio is the meaningful figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import RESULTS, machine  # noqa: E402
from lfr_ledger.api.auth import issue_token  # noqa: E402
from lfr_ledger.api.bootstrap import build_ledger  # noqa: E402
from lfr_ledger.api.demo.sample_deployment import (  # noqa: E402
    AUTHORITY,
    SIGNAGE,
    register_documents,
    train,
)
from lfr_ledger.api.demo.seed import (  # noqa: E402
    ADMIN,
    AUTHORISING_OFFICER,
    CATEGORIES,
    FORCE,
    MODEL,
    OPERATOR,
    PLANNER,
    THRESHOLD,
    WATCHLIST_MANAGER,
    seed_subject,
)
from lfr_ledger.config.settings import Settings  # noqa: E402
from lfr_ledger.domain.actors import Actor, Role  # noqa: E402
from lfr_ledger.domain.alert import AlertClaim  # noqa: E402
from lfr_ledger.domain.values import Camera, DeploymentPlan, Location, PublicNotice  # noqa: E402


def prepare(settings: Settings, alerts: int) -> list[str]:
    """A live deployment with `alerts` open alerts, recorded with the real clock."""
    return prepare_live(settings, alerts)[2]


def prepare_live(settings: Settings, alerts: int = 0) -> tuple[UUID, UUID, list[str]]:
    """A live deployment (its id, its one watchlist entry's) with `alerts` open alerts."""
    ledger = build_ledger(settings)
    try:
        ledger.adopt_policy(ADMIN)
        register_documents(ledger)
        train(ledger, "PC-BENCH", "adjudicate")  # the operator the load signs in as
        op = ledger.open_operation(PLANNER, name="Bench", force=FORCE, purpose="benchmark")
        start = ledger.clock() - timedelta(minutes=1)
        plan = DeploymentPlan(
            operation_id=str(op),
            location=Location("Abington Street", "Northampton", "town_centre"),
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            purpose="benchmark",
            intelligence_case="BENCH-1",
            watchlist_categories=CATEGORIES,
            cameras=(Camera("cam-1", "mast"),),
            controlling_force=FORCE,
            equipment_owner_force=FORCE,
            dpia_ref="DPIA-1",
            eia_ref="EIA-1",
            policy_ref=ledger.policy.version,
            public_notice=PublicNotice("signage", start - timedelta(days=1)),
            model_id=MODEL,
        )
        dep = ledger.propose_deployment(PLANNER, plan, threshold=THRESHOLD)
        ledger.authorise_deployment(
            AUTHORISING_OFFICER, dep, authority_ref="AUTH-BENCH", **AUTHORITY
        )
        entry = ledger.enrol(WATCHLIST_MANAGER, dep, seed_subject(0, 0))
        ledger.review_watchlist(AUTHORISING_OFFICER, dep, confirmed_count=1, not_excessive=True)
        ledger.confirm_signage(OPERATOR, dep, **SIGNAGE)
        ledger.start_deployment(OPERATOR, dep)
        matcher = Actor("matcher-bench", Role.MATCHER, deployment_id=str(dep))
        captured = ledger.clock()
        return (
            dep,
            entry,
            [
                str(
                    ledger.raise_alert(
                        matcher,
                        AlertClaim(
                            dep,
                            camera_id="cam-1",
                            entry_id=entry,
                            similarity=0.8,
                            captured_at=captured,
                        ),
                    )
                )
                for _ in range(alerts)
            ],
        )
    finally:
        ledger.close()
        close = getattr(ledger.vault, "close", None)
        if close:
            close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    data_dir: Path,
    secret: str,
    store: dict[str, str] | None = None,
    options: tuple[str, ...] = (),
) -> tuple[subprocess.Popen[bytes], str]:
    """`lfr serve` on a free port: on the embedded SQLite in `data_dir`, or on the store the
    `store` variables name (LFR_DATABASE_URL, LFR_POSTGRES_SCHEMA); `options` added to its
    command line."""
    port = free_port()
    env = {**os.environ, "LFR_DATA_DIR": str(data_dir), "LFR_JWT_SECRET": secret}
    env.pop("LFR_DATABASE_URL", None)
    env.pop("LFR_POSTGRES_SCHEMA", None)
    env.update(store or {})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lfr_ledger.api.cli.serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *options,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


async def load(
    url: str,
    requests: list[tuple[str, str, dict[str, Any] | None]],
    headers: dict[str, str],
    concurrency: int,
) -> dict[str, Any]:
    queue: asyncio.Queue[tuple[str, str, dict[str, Any] | None]] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            method, path, body = queue.get_nowait()
            t0 = time.perf_counter()
            response = await client.request(method, path, json=body, headers=headers)
            latencies.append(time.perf_counter() - t0)
            statuses[response.status_code] += 1

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        await asyncio.gather(*(client.get("/health") for _ in range(concurrency)))  # connect
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"latencies": latencies, "seconds": elapsed, "statuses": statuses}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = sorted(x for r in runs for x in r["latencies"])
    elapsed = sum(r["seconds"] for r in runs)
    statuses: Counter[int] = sum((r["statuses"] for r in runs), Counter())
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--output", type=Path, default=RESULTS / "api.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lfr-bench-api-") as tmp:
        data_dir = Path(tmp) / "var"
        secret = secrets.token_urlsafe(48)
        settings = Settings(data_dir=data_dir, jwt_secret=secret)
        t0 = time.perf_counter()
        alert_ids = prepare(settings, args.alerts)
        prepared = time.perf_counter() - t0
        proc, url = start_server(data_dir, secret)
        try:
            token = issue_token(settings, role="operator", sub="PC-BENCH")
            headers = {"Authorization": f"Bearer {token}"}
            warm = [("GET", "/health", None)] * 500
            asyncio.run(load(url, warm, headers, args.concurrency))
            # Alternating rounds, so both phases see the same background load on a shared box.
            health_runs, adjudication_runs = [], []
            per_round = len(alert_ids) // args.rounds
            for i in range(args.rounds):
                batch = alert_ids[i * per_round : (i + 1) * per_round]
                health_runs.append(
                    asyncio.run(
                        load(
                            url, [("GET", "/health", None)] * len(batch), headers, args.concurrency
                        )
                    )
                )
                adjudication_runs.append(
                    asyncio.run(
                        load(
                            url,
                            [
                                (
                                    "POST",
                                    f"/alerts/{a}/adjudication",
                                    {"decision": "match", "reason": "bench"},
                                )
                                for a in batch
                            ],
                            headers,
                            args.concurrency,
                        )
                    )
                )
            health = summarise(health_runs)
            adjudication = summarise(adjudication_runs)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert set(adjudication["statuses"]) == {"200"}, adjudication["statuses"]
    result = {
        "benchmark": "api",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "server": "lfr serve (uvicorn, 1 process), embedded SQLite, loopback",
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "load_average_after": os.getloadavg(),
        "prepare_seconds": round(prepared, 2),
        "adjudication": adjudication,
        "health": health,
        "ratio_rps_adjudication_to_health": round(
            adjudication["requests_per_second"] / health["requests_per_second"], 3
        ),
        "ratio_p99_adjudication_to_health": round(adjudication["p99_ms"] / health["p99_ms"], 2),
        "note": "client and server share the machine's cores; ratios are taken in one run",
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
