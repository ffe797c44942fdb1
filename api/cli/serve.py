"""`lfr serve`: the HTTP API on uvicorn, on the store that LFR_* settings name."""

from __future__ import annotations

import argparse
import functools
from typing import Any

from lfr_ledger.api.cli.output import EXIT_ERROR, fail, note


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="run the HTTP API (uvicorn)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.add_argument(
        "--no-retention",
        action="store_true",
        help="do not run the retention jobs in this process (another process runs them)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="sign a checkpoint of the log this often when it grew, and after every retention "
        "run that destroyed something (default 60; 0: never)",
    )
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    from lfr_ledger.api.app import create_app
    from lfr_ledger.config.settings import Settings

    settings = Settings.from_env()
    # Before anything starts: a database that is missing or refuses, a schema newer than this
    # release, or a busy port is one line and a non-zero exit (api/preflight.py).
    from lfr_ledger.api.preflight import PreflightError, check_port, check_store

    try:
        check_store(settings)
        check_port(args.host, args.port)
    except PreflightError as error:
        return fail("serve", str(error))
    app = create_app(settings)
    # The scheduler's per-job lines (a dozen at each start, one per run) say nothing an
    # operator acts on; its warnings and errors still show, and everything with --log-level debug.
    import logging

    if args.log_level != "debug":
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Retention is the law, not housekeeping: the server that holds the data destroys it on
    # time. Checkpoints bound what an insider could rewrite unnoticed to the last minute.
    # Jobs are rebuilt from the event log, so a restart loses none. With several nodes on one
    # PostgreSQL each periodic job runs on one node at a time (`run_alone`: an advisory lock).
    from apscheduler.schedulers.background import BackgroundScheduler

    from lfr_ledger.api.bootstrap import build_retention
    from lfr_ledger.eventlog.witness.client import sign_and_send
    from lfr_ledger.oversight.retention.schedule import RetentionSchedule
    from lfr_ledger.projections.alone import run_alone

    scheduler = BackgroundScheduler(timezone="UTC")
    every = float(getattr(args, "checkpoint_every", 60.0))

    def checkpoint() -> None:
        if every > 0:
            # Signed, then sent to every witness (LFR_WITNESSES): never inside a write.
            run_alone(settings, "audit:checkpoint", sign_and_send, settings)

    if every > 0:
        scheduler.add_job(
            checkpoint, "interval", seconds=every, id="audit:checkpoint", max_instances=1
        )
    from lfr_ledger.api.deadlines import EVERY_SECONDS, end_deployments_on_deadline
    from lfr_ledger.api.scheduling import every_alone

    # A window that closes, or urgent authority that lapses, ends the deployment without
    # waiting for anyone: checked every 30 s, so a van never runs past it by more.
    services = app.state.services
    every_alone(
        scheduler,
        settings,
        "deployments:deadlines",
        end_deployments_on_deadline,
        services.ledger,
        settings,
        seconds=EVERY_SECONDS,
        caught_up=services.statistics,
    )
    _schedule_camera_checks(scheduler, services, settings)
    # Results not published within the policy's days of a deployment's end are recorded
    # overdue, in the history oversight reads: checked every ten minutes.
    from lfr_ledger.api.publication_deadline import schedule_publication_checks

    schedule_publication_checks(scheduler, services.ledger, settings, caught_up=services.statistics)
    # The default check re-hashes only what is new since the checkpoint; this re-hashes the
    # whole log a slice a minute, so an edit under a checkpoint is found within the period.
    from lfr_ledger.api.reverify import schedule_reverification

    schedule_reverification(scheduler, settings, services.ledger)
    if not getattr(args, "no_retention", False):
        ledger = app.state.services.ledger
        retention = build_retention(ledger, settings, after_change=checkpoint)
        schedule = RetentionSchedule(
            retention, scheduler, one_node=functools.partial(run_alone, settings)
        )
        # The first sweep runs once the server is up, not before it: a node started with a
        # backlog of destructions (a long outage, a restored store) answers at once, and
        # destroys what is due beside its requests.
        scheduler.add_job(schedule.rebuild, id="startup:retention", max_instances=1)
    scheduler.start()
    from lfr_ledger.api.http_protocol import ProblemH11Protocol

    started = _run_and_announce(
        app,
        http=ProblemH11Protocol,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        # The app writes its own access log by route template; uvicorn's would print
        # concrete paths and query strings (record ids, stated purposes).
        access_log=False,
        # Live alert streams never end by themselves; do not wait for them for long.
        timeout_graceful_shutdown=3,
        # X-Forwarded-For/-Proto only from the proxies LFR_TRUSTED_PROXIES names (none by
        # default): uvicorn's own default would believe any process on this host (docs/tls.md).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies),
    )
    scheduler.shutdown(wait=False)
    return 0 if started else EXIT_ERROR


def _run_and_announce(app: Any, **options: Any) -> bool:
    """`uvicorn.run`, saying once the socket listens where the console, the API's documents,
    the metrics and the probes are (uvicorn names only its own address)."""
    import uvicorn

    class Announcing(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if not self.should_exit:
                # The port bound, which `--port 0` leaves to the kernel.
                bound = [s.getsockname()[1] for srv in self.servers for s in srv.sockets]
                port = bound[0] if bound else options["port"]
                note("\n".join(where_it_serves(options["host"], port)))

    server = Announcing(uvicorn.Config(app, **options))
    server.run()
    return bool(server.started)


def where_it_serves(host: str, port: int) -> list[str]:
    """The lines `lfr serve` prints once it listens."""
    import socket

    # An unspecified address listens on all of them: name the machine instead.
    shown = socket.gethostname() if host in {"0.0.0.0", "::", ""} else host
    base = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    return [
        f"lfr serve: serving on {base}",
        f"  console     {base}/console",
        f"  API docs    {base}/schema",
        f"  metrics     {base}/metrics",
        f"  health      {base}/health (readiness: {base}/health/ready)",
    ]


def _schedule_camera_checks(scheduler: Any, services: Any, settings: Any) -> None:
    """Every minute: cameras of live deployments heard nothing from (no heartbeat, no face
    count) for longer than the policy's bound are recorded silent."""
    from lfr_ledger.api.camera_health import schedule_camera_checks

    schedule_camera_checks(scheduler, services.ledger, settings, caught_up=services.statistics)


if __name__ == "__main__":
    # `python -m api.cli.serve` is `lfr serve`, usable before the command is registered.
    import sys

    root = argparse.ArgumentParser(prog="lfr")
    register(root.add_subparsers(dest="command", required=True))
    sys.exit(serve(root.parse_args(["serve", *sys.argv[1:]])))
