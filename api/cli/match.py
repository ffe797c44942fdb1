"""`lfr match`: runs the live matcher for one camera of one deployment.

In-process (the default) the runner writes through the case ledger as the deployment's matcher
account. With `--api URL --token TOKEN` it is a remote node that needs no database: alerts,
counts and heartbeats go to the HTTP API under the matcher token, and the deployment's live terms
and its watchlist changes (templates included, for the node's own index under
`LFR_DATA_DIR/matchers/DEPLOYMENT/`) are read from it. `--api A,B` names several API nodes: when
one stops answering, the next is tried. `--wait` keeps the node up for the deployment: it
matches whenever the deployment is live and exits when it is over.

A recorded source (a file or a folder) is replayed as if live: frames are stamped from `--start`
(default: now) at the source's frame rate. Replaying after a crash with the same `--start` stamps
every frame as before, so alerts and counts already recorded are recognised, not duplicated. A
live camera cannot be replayed: there the runner's journal (`--journal`) lets a restart treat the
alerts of the last cool-down as raised, and send again any claim written just before a crash.

Faces are found on the frame shrunk to `--detect-side` pixels and followed across frames; each
passer-by is compared with the watchlist a few times (when first seen, and when a sighting is
materially better), not in every frame.

Every `--heartbeat-every` seconds (default 30) the matcher reports how the camera runs: frames per
second, faces seen, frames dropped, its last error (counts only). Operators and oversight read
them at GET /deployments/{id}/cameras; a camera of a live deployment that stops reporting for
longer than the policy's `camera_silent_after_seconds` is recorded silent by the server.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from uuid import UUID

from lfr_ledger.api.cli.output import json_flag, note, plural, print_json, progress

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from lfr_ledger.config.settings import Settings
    from lfr_ledger.domain.actors import Actor
    from lfr_ledger.domain.application import CaseLedger
    from lfr_ledger.domain.commands.camera_health import HeartbeatReport
    from lfr_ledger.matching.engines.faces import FaceEngine
    from lfr_ledger.matching.pipeline.journal import AlertJournal
    from lfr_ledger.matching.pipeline.runner import RunnerConfig

EXIT_REFUSED = 3
# A 1280 × 720 van camera is searched for faces at half size (about 4 × cheaper); each face
# chosen for comparison is found again at full resolution, so alignment loses nothing.
DETECT_SIDE = 640


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    parser = subparsers.add_parser(
        "match",
        help="run the live matcher on one camera's video source for a live deployment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    json_flag(parser)
    parser.add_argument("--deployment", required=True, type=UUID, help="deployment id")
    parser.add_argument("--camera", required=True, help="camera id within the deployment")
    parser.add_argument(
        "--source",
        required=True,
        help="video file, RTSP/HTTP URL, webcam index (e.g. 0), or a folder of images",
    )
    parser.add_argument(
        "--api",
        default=None,
        metavar="URL[,URL...]",
        help="remote matcher node: the HTTP API's base URL, or several API nodes' separated by "
        "commas (tried in turn when one stops answering); no database access is needed",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("LFR_MATCHER_TOKEN"),
        help="matcher bearer token for --api (default: $LFR_MATCHER_TOKEN)",
    )
    parser.add_argument(
        "--cooldown", type=float, default=30.0, help="seconds between alerts for one subject"
    )
    parser.add_argument(
        "--best-shot",
        type=float,
        default=0.0,
        help="seconds a new track collects crops before alerting (default 0: alert at once)",
    )
    parser.add_argument(
        "--count-interval", type=float, default=60.0, help="seconds per faces-processed report"
    )
    parser.add_argument(
        "--heartbeat-every",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="seconds between heartbeats (frames per second, faces seen, frames dropped, last "
        "error; default 30)",
    )
    parser.add_argument(
        "--realtime", action="store_true", help="pace a recorded source at its frame rate"
    )
    parser.add_argument(
        "--start",
        type=datetime.fromisoformat,
        default=None,
        help="capture time of a recorded source's first frame, ISO 8601 with zone (default now)",
    )
    parser.add_argument("--fps", type=float, default=None, help="frame rate of a folder source")
    parser.add_argument("--max-frames", type=int, default=None, help="stop after this many")
    parser.add_argument("--engine", default="insightface", help="face engine entry point")
    parser.add_argument("--pack", default="sface", help="model pack (default sface)")
    parser.add_argument(
        "--give-up-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop reconnecting a lost live source after this long (default: never)",
    )
    parser.add_argument(
        "--journal",
        type=Path,
        default=None,
        metavar="FILE",
        help="where this camera's alert claims are written before they are sent, so a restart "
        "raises no second alert (default: LFR_DATA_DIR/matchers/DEPLOYMENT/CAMERA.jsonl)",
    )
    parser.add_argument(
        "--detect-side",
        type=int,
        default=DETECT_SIDE,
        metavar="PIXELS",
        help="find faces on the frame shrunk to this longer side, then refine each face chosen "
        f"for comparison at full resolution (default {DETECT_SIDE}; 0: the whole frame)",
    )
    parser.add_argument(
        "--matcher-id", default=None, help="service account id (default matcher:CAMERA)"
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="stay up for the deployment's window: match whenever it is live, stop on pause, "
        "resume on resume, exit when it ends (in process: APScheduler jobs rebuilt from the "
        "event log; with --api: the API asked for the terms every few seconds)",
    )


def run(args: argparse.Namespace) -> int:
    if args.api and not args.token:
        print("lfr match: --api needs --token (or LFR_MATCHER_TOKEN)", file=sys.stderr)
        return 2
    if getattr(args, "wait", False):
        return run_remote_waiting(args) if args.api else run_scheduled(args)
    return run_once(args)


WAIT_POLL_SECONDS = 2.0


def run_remote_waiting(args: argparse.Namespace) -> int:
    """A remote matcher node as a service: it asks the API for its deployment's terms every
    few seconds and runs the matcher whenever the deployment is live in its window (the runner
    stops itself on a pause or the window's end); it exits when the deployment is over. No
    schedule is kept: the API's answer is the schedule."""
    import threading

    from lfr_ledger.domain.clock import utcnow
    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.matching.node.remote import ApiWatch
    from lfr_ledger.matching.node.sinks import MatcherApi, SinkUnavailable

    stopped = threading.Event()
    api = MatcherApi(args.api.split(","), args.token)
    watch = ApiWatch(api, args.deployment)

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    try:
        while not stopped.is_set():
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            try:
                terms = watch.terms()
            except SinkUnavailable as error:
                note(f"lfr match: waiting for the API: {error}")
                stopped.wait(WAIT_POLL_SECONDS)
                continue
            except DomainError as error:
                print(f"lfr match: {error}", file=sys.stderr)
                return 1
            now = utcnow()
            if terms.status in ("ended", "refused") or now >= terms.ends_at:
                break
            if args.camera not in terms.cameras:
                print(
                    f"lfr match: refused: camera {args.camera!r} is not part of deployment "
                    f"{args.deployment}",
                    file=sys.stderr,
                )
                return EXIT_REFUSED
            if terms.is_live and terms.inside_window(now):
                code = run_once(args, stopped=stopped)
                if code not in (0, EXIT_REFUSED):
                    return code
            stopped.wait(WAIT_POLL_SECONDS)
    finally:
        api.close()
    print(f"deployment {args.deployment} is over for camera {args.camera}", flush=True)
    return 0


def run_scheduled(args: argparse.Namespace) -> int:
    """The matcher node as a service: one runner at a time for this camera, begun and halted
    by the schedule that the event log implies."""
    import threading

    from apscheduler.schedulers.background import BackgroundScheduler

    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.domain.clock import utcnow
    from lfr_ledger.matching.index.follower import WatchlistIndex
    from lfr_ledger.matching.node.live_terms import LedgerWatch
    from lfr_ledger.matching.node.schedule import MatchSchedule, RunnerPool
    from lfr_ledger.matching.node.sinks import LedgerSink
    from lfr_ledger.matching.pipeline.runner import MatchRunner, RunSummary
    from lfr_ledger.matching.pipeline.sources import FrameSource

    config = _runner_config(args)
    if config is None:
        return 2
    settings = Settings.from_env()
    ledger = build_ledger(settings)
    engine = _engine(args, settings)
    actor = _matcher(args)

    def launch(deployment_id: UUID, camera_id: str, stop: threading.Event) -> RunSummary:
        source = FrameSource(
            args.source,
            fps=args.fps,
            realtime=args.realtime,
            give_up_after_seconds=args.give_up_after,
        )
        # Each run has its own index connection: SQLite connections stay in their thread.
        with WatchlistIndex.open(settings) as index:
            runner = MatchRunner(
                deployment_id=deployment_id,
                camera_id=camera_id,
                engine=engine,
                index=index,
                sink=LedgerSink(ledger, actor, heartbeats=heartbeat_keeper(ledger, settings)),
                watch=LedgerWatch(ledger, deployment_id),
                config=config,
                refresh=lambda: index.sync(ledger),
                source_counts=source.counts,
                journal=_journal(args, settings, deployment_id, camera_id),
            )

            def halt_when_told() -> None:
                stop.wait()
                runner.stop()

            threading.Thread(target=halt_when_told, daemon=True).start()
            runner.check_can_start()
            index.sync(ledger)
            if not source.is_live:
                source.start = utcnow()
            summary = runner.run(source.frames())
            print(f"runner stopped ({summary.stopped}): {len(summary.alerts)} alerts", flush=True)
            return summary

    pool = RunnerPool(launch)
    scheduler = BackgroundScheduler(timezone="UTC")
    schedule = MatchSchedule(
        ledger,
        scheduler,
        begin=pool.begin,
        halt=pool.halt,
        poll_seconds=2.0,
        cameras=lambda d: [args.camera] if d == args.deployment else [],
    )
    if not schedule.rebuild():
        print(
            f"lfr match: refused: deployment {args.deployment} has no window ahead in which "
            f"camera {args.camera} may run (not authorised, ended, or past its end)",
            file=sys.stderr,
        )
        ledger.close()
        return EXIT_REFUSED
    # Re-read the log now and then, so an authorisation or a window change is picked up.
    scheduler.add_job(schedule.rebuild, "interval", seconds=60, id="rebuild", coalesce=True)
    scheduler.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(f"waiting for deployment {args.deployment} to be live on {args.camera}", flush=True)
    while not done.wait(1.0):
        deployment = ledger.deployment(args.deployment)
        if str(deployment.status) in ("ended", "refused") or utcnow() >= deployment.plan.ends_at:
            break
    pool.halt_all()
    scheduler.shutdown(wait=False)
    ledger.close()
    print(f"deployment {args.deployment} is over for camera {args.camera}", flush=True)
    return 0


def heartbeat_keeper(
    ledger: CaseLedger, settings: Settings
) -> Callable[[Actor, HeartbeatReport], bool]:
    """In process, a heartbeat is kept as the HTTP route keeps it (and may end a silence)."""
    from lfr_ledger.api.camera_health import accept_heartbeat

    def keep(actor: Actor, report: HeartbeatReport) -> bool:
        _, reporting = accept_heartbeat(ledger, settings, actor, report)
        return reporting

    return keep


def _engine(args: argparse.Namespace, settings: Settings) -> FaceEngine:
    from lfr_ledger.matching.engines.plugins import load_engine

    if args.detect_side < 0:
        raise ValueError("--detect-side must be 0 (the whole frame) or a number of pixels")
    return load_engine(
        args.engine, args.pack, settings.model_dir, detector_max_side=args.detect_side or None
    )


def _journal(
    args: argparse.Namespace, settings: Settings, deployment_id: UUID, camera_id: str
) -> AlertJournal:
    from lfr_ledger.matching.pipeline.journal import AlertJournal

    if args.journal is not None:
        return AlertJournal(args.journal)
    return AlertJournal(settings.data_dir / "matchers" / str(deployment_id) / f"{camera_id}.jsonl")


def _matcher(args: argparse.Namespace) -> Actor:
    from lfr_ledger.domain.actors import Actor, Role

    return Actor(
        args.matcher_id or f"matcher:{args.camera}",
        Role.MATCHER,
        deployment_id=str(args.deployment),
    )


def _runner_config(args: argparse.Namespace) -> RunnerConfig | None:
    """The runner's settings from the command line; None (after saying why) when invalid."""
    from lfr_ledger.matching.pipeline.runner import RunnerConfig

    try:
        return RunnerConfig(
            cooldown=timedelta(seconds=args.cooldown),
            best_shot=timedelta(seconds=args.best_shot),
            count_interval=timedelta(seconds=args.count_interval),
            heartbeat_every_seconds=args.heartbeat_every,
        )
    except ValueError as error:
        print(f"lfr match: {error}", file=sys.stderr)
        return None


def run_once(args: argparse.Namespace, *, stopped: threading.Event | None = None) -> int:
    """One run of the matcher, until the source ends or the deployment stops being live.
    `stopped`: set when a signal stopped it (a waiting node then stops waiting too)."""
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.domain.alert import AlertClaim
    from lfr_ledger.domain.clock import utcnow
    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.matching.index.follower import WatchlistIndex
    from lfr_ledger.matching.node.live_terms import DeploymentWatch, LedgerWatch
    from lfr_ledger.matching.node.remote import ApiWatch, ApiWatchlistFeed, remote_index_path
    from lfr_ledger.matching.node.sinks import (
        AlertSink,
        HttpSink,
        LedgerSink,
        MatcherApi,
        SinkUnavailable,
    )
    from lfr_ledger.matching.pipeline.runner import MatchRunner, RunnerRefused
    from lfr_ledger.matching.pipeline.sources import FrameSource, SourceError

    if args.start is not None and args.start.tzinfo is None:
        print(
            "lfr match: --start needs a time zone, e.g. 2025-06-02T10:00:00+00:00", file=sys.stderr
        )
        return 2
    config = _runner_config(args)
    if config is None:
        return 2

    settings = Settings.from_env()
    ledger: CaseLedger | None = None
    sink: AlertSink
    watch: DeploymentWatch
    sync: Callable[[], int]
    if args.api:
        # A remote node: no database, only the API (its nodes tried in turn) and its token.
        api = MatcherApi(args.api.split(","), args.token)
        sink = HttpSink(api)
        watch = ApiWatch(api, args.deployment)
        index = WatchlistIndex(remote_index_path(settings, args.deployment))
        feed = ApiWatchlistFeed(api, args.deployment)
        sync = functools.partial(index.follow, feed)
    else:
        local = ledger = build_ledger(settings)
        sink = LedgerSink(local, _matcher(args), heartbeats=heartbeat_keeper(local, settings))
        watch = LedgerWatch(local, args.deployment)
        index = WatchlistIndex.open(settings)
        sync = functools.partial(index.sync, local)
    source = FrameSource(
        args.source,
        fps=args.fps,
        realtime=args.realtime,
        max_frames=args.max_frames,
        give_up_after_seconds=args.give_up_after,
    )
    if not source.is_live:
        source.start = args.start or utcnow()

    def printed(claim: AlertClaim) -> None:
        # Ids and scores only: the operator opens the alert (and its crop) in the case system.
        # With --json the alerts come in the summary; as they happen they are notes.
        print(
            f"alert {claim.alert_id} entry {claim.entry_id} similarity {claim.similarity:.3f} "
            f"captured {claim.captured_at.isoformat()}",
            file=sys.stderr if args.json else sys.stdout,
            flush=True,
        )

    try:
        engine = _engine(args, settings)
        runner = MatchRunner(
            deployment_id=args.deployment,
            camera_id=args.camera,
            engine=engine,
            index=index,
            sink=sink,
            watch=watch,
            config=config,
            refresh=sync,
            on_alert=printed,
            source_counts=source.counts,
            journal=_journal(args, settings, args.deployment, args.camera),
        )

        def stop(signum: int, _frame: FrameType | None) -> None:
            runner.stop()
            if stopped is not None:
                stopped.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        runner.check_can_start()  # refuse before the index is synced or a frame read
        sync()
        if index.count(args.deployment) == 0:
            print(
                f"lfr match: deployment {args.deployment} has no watchlist entry with a template "
                "for this engine; nothing can match (faces are still counted)",
                file=sys.stderr,
            )
        # Said at once, so a long video is not a silent wait (frames count on a terminal).
        note(
            f"lfr match: reading {source.shown_url} for deployment {args.deployment}, camera "
            f"{args.camera}, {index.count(args.deployment)} watchlist entries; Ctrl-C stops"
        )
        summary = runner.run(progress(source.frames(), total=args.max_frames, what="frames"))
    except RunnerRefused as refusal:
        print(f"lfr match: refused: {refusal}", file=sys.stderr)
        return EXIT_REFUSED
    except (SourceError, DomainError) as error:
        print(f"lfr match: {error}", file=sys.stderr)
        return 1
    except SinkUnavailable as error:
        # A wrong token or role is answered once, not retried into a traceback.
        print(f"lfr match: the ledger did not take the matcher's report: {error}", file=sys.stderr)
        return 1
    finally:
        if isinstance(sink, HttpSink):
            sink.close()
        index.close()
        if ledger is not None:
            ledger.close()
            close_vault = getattr(ledger.vault, "close", None)
            if close_vault is not None:
                close_vault()
    if args.json:
        print_json(
            {
                "stopped": summary.stopped,
                "frames": summary.frames,
                "faces": summary.faces,
                "alerts": [
                    {
                        "alert_id": a.alert_id,
                        "entry_id": a.entry_id,
                        "similarity": a.similarity,
                        "captured_at": a.captured_at,
                    }
                    for a in summary.alerts
                ],
                "count_reports": len(summary.counts),
                "heartbeats": len(summary.heartbeats),
            }
        )
        return 0
    print(
        f"stopped ({summary.stopped}): {plural(summary.frames, 'frame')}, "
        f"{plural(summary.faces, 'face')}, {plural(len(summary.alerts), 'alert')}, "
        f"{plural(len(summary.counts), 'face-count report')}, "
        f"{plural(len(summary.heartbeats), 'heartbeat')}",
        flush=True,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lfr match", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
