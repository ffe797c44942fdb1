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
    from lfr_ledger.matching.node.assembly import InProcessLedger, LedgerLink, Matcher
    from lfr_ledger.matching.pipeline.config import RunnerConfig
    from lfr_ledger.matching.pipeline.sources import FrameSource

EXIT_REFUSED = 3
# A 1280 × 720 van camera is searched for faces at half size (about 4 × cheaper); each face
# chosen for comparison is found again at full resolution, so alignment loses nothing.
DETECT_SIDE = 640
# What `--json` shows of each alert: ids and scores, never the crop.
ALERT_FIELDS = ("alert_id", "entry_id", "similarity", "captured_at")


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
    parser.add_argument("--whole-frames", action="store_true", help="search every frame whole")
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
    """A remote matcher node as a service: it runs the matcher whenever the API says the
    deployment is live in its window, and exits when it is over (`node.service.live_spells`)."""
    import threading

    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.matching.node.remote import ApiWatch
    from lfr_ledger.matching.node.service import live_spells
    from lfr_ledger.matching.node.sinks import MatcherApi
    from lfr_ledger.matching.pipeline.ports import DeploymentCamera
    from lfr_ledger.matching.pipeline.runner import RunnerRefused

    stopped = threading.Event()
    api = MatcherApi(args.api.split(","), args.token)

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    spells = live_spells(
        ApiWatch(api, args.deployment),
        DeploymentCamera(args.deployment, args.camera),
        stopped,
        poll_seconds=WAIT_POLL_SECONDS,
        unreachable=lambda error: note(f"lfr match: waiting for the API: {error}"),
    )
    # A run takes the signals for itself (stopping its runner, and `stopped` too); between
    # runs they stop the waiting.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        for _ in spells:
            code = run_once(args, stopped=stopped)
            if code not in (0, EXIT_REFUSED):
                return code
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
    except RunnerRefused as refusal:
        print(f"lfr match: refused: {refusal}", file=sys.stderr)
        return EXIT_REFUSED
    except DomainError as error:
        print(f"lfr match: {error}", file=sys.stderr)
        return 1
    finally:
        api.close()
    print(f"deployment {args.deployment} is over for camera {args.camera}", flush=True)
    return 0


def run_scheduled(args: argparse.Namespace) -> int:
    """The matcher node as a service: one runner at a time for this camera, begun and halted
    by the schedule that the event log implies."""
    import threading

    from lfr_ledger.config.settings import Settings
    from lfr_ledger.matching.node.assembly import assemble_matcher, camera_journal
    from lfr_ledger.matching.node.service import ScheduledNode, run_until_halted
    from lfr_ledger.matching.pipeline.ports import DeploymentCamera
    from lfr_ledger.matching.pipeline.runner import RunnerRefused
    from lfr_ledger.matching.pipeline.summary import RunSummary

    config = _runner_config(args)
    if config is None:
        return 2
    settings = Settings.from_env()
    link = _in_process(args, settings)
    engine = _engine(args, settings)

    def launch(deployment_id: UUID, camera_id: str, halt: threading.Event) -> RunSummary:
        source = _source(args, max_frames=None)
        journal = camera_journal(settings, deployment_id, camera_id, args.journal)
        # Each run has its own index connection: SQLite connections stay in their thread.
        with assemble_matcher(
            link, deployment_id, camera_id, engine, config=config, source=source, journal=journal
        ) as matcher:
            summary = run_until_halted(matcher, source, halt)
        print(f"runner stopped ({summary.stopped}): {len(summary.alerts)} alerts", flush=True)
        return summary

    node = ScheduledNode(link.ledger, DeploymentCamera(args.deployment, args.camera), launch)
    try:
        node.start()
    except RunnerRefused as refusal:
        print(f"lfr match: refused: {refusal}", file=sys.stderr)
        link.close()
        return EXIT_REFUSED
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(f"waiting for deployment {args.deployment} to be live on {args.camera}", flush=True)
    while not done.wait(1.0) and not node.is_over():
        pass
    node.close()
    link.close()
    print(f"deployment {args.deployment} is over for camera {args.camera}", flush=True)
    return 0


def heartbeat_keeper(
    ledger: CaseLedger, settings: Settings
) -> Callable[[Actor, HeartbeatReport], bool]:
    """In process, a heartbeat is kept as the HTTP route keeps it (and may end a silence)."""
    from lfr_ledger.api.camera_health import accept_heartbeat

    return lambda actor, report: accept_heartbeat(ledger, settings, actor, report)[1]


def _in_process(args: argparse.Namespace, settings: Settings) -> InProcessLedger:
    """The ledger in this process, written to as the camera's matcher account."""
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.matching.node.assembly import InProcessLedger, matcher_account

    ledger = build_ledger(settings)
    actor = matcher_account(args.deployment, args.camera, args.matcher_id)
    return InProcessLedger(ledger, actor, settings, heartbeats=heartbeat_keeper(ledger, settings))


def _engine(args: argparse.Namespace, settings: Settings) -> FaceEngine:
    from lfr_ledger.matching.engines.plugins import load_engine

    if args.detect_side < 0:
        raise ValueError("--detect-side must be 0 (the whole frame) or a number of pixels")
    return load_engine(
        args.engine, args.pack, settings.model_dir, detector_max_side=args.detect_side or None
    )


def _source(args: argparse.Namespace, *, max_frames: int | None) -> FrameSource:
    from lfr_ledger.matching.pipeline.sources import FrameSource

    return FrameSource(
        args.source,
        fps=args.fps,
        realtime=args.realtime,
        max_frames=max_frames,
        give_up_after_seconds=args.give_up_after,
    )


def _runner_config(args: argparse.Namespace) -> RunnerConfig | None:
    """The runner's settings from the command line; None (after saying why) when invalid."""
    from lfr_ledger.matching.pipeline.config import GatingConfig, RunnerConfig

    try:
        return RunnerConfig(
            cooldown=timedelta(seconds=args.cooldown),
            best_shot=timedelta(seconds=args.best_shot),
            count_interval=timedelta(seconds=args.count_interval),
            heartbeat_every_seconds=args.heartbeat_every,
            gating=None if args.whole_frames else GatingConfig(),
        )
    except ValueError as error:
        print(f"lfr match: {error}", file=sys.stderr)
        return None


def run_once(args: argparse.Namespace, *, stopped: threading.Event | None = None) -> int:
    """One run of the matcher, until the source ends or the deployment stops being live.
    `stopped`: set when a signal stopped it (a waiting node then stops waiting too)."""
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.domain.alert import AlertClaim
    from lfr_ledger.domain.clock import utcnow
    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.matching.node.assembly import LedgerOverHttp, assemble_matcher, camera_journal
    from lfr_ledger.matching.node.sinks import SinkUnavailable
    from lfr_ledger.matching.pipeline.ports import RunnerHooks
    from lfr_ledger.matching.pipeline.runner import RunnerRefused
    from lfr_ledger.matching.pipeline.sources import SourceError

    if args.start is not None and args.start.tzinfo is None:
        print(
            "lfr match: --start needs a time zone, e.g. 2025-06-02T10:00:00+00:00", file=sys.stderr
        )
        return 2
    config = _runner_config(args)
    if config is None:
        return 2

    settings = Settings.from_env()
    # A remote node: no database, only the API (its nodes tried in turn) and its token.
    link: LedgerLink = (
        LedgerOverHttp.connect(args.api.split(","), args.token, settings)
        if args.api
        else _in_process(args, settings)
    )
    source = _source(args, max_frames=args.max_frames)
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

    matcher: Matcher | None = None
    try:
        matcher = assemble_matcher(
            link,
            args.deployment,
            args.camera,
            _engine(args, settings),
            config=config,
            source=source,
            journal=camera_journal(settings, args.deployment, args.camera, args.journal),
            hooks=RunnerHooks(on_alert=printed),
        )
        runner = matcher.runner

        def stop(signum: int, _frame: FrameType | None) -> None:
            runner.stop()
            if stopped is not None:
                stopped.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        entries = matcher.ready()
        if entries == 0:
            print(
                f"lfr match: deployment {args.deployment} has no watchlist entry with a template "
                "for this engine; nothing can match (faces are still counted)",
                file=sys.stderr,
            )
        # Said at once, so a long video is not a silent wait (frames count on a terminal).
        note(
            f"lfr match: reading {source.shown_url} for deployment {args.deployment}, camera "
            f"{args.camera}, {entries} watchlist entries; Ctrl-C stops"
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
        if matcher is not None:
            matcher.close()
        link.close()
    if args.json:
        print_json(
            {
                "stopped": summary.stopped,
                "frames": summary.frames,
                "faces": summary.faces,
                "alerts": [{key: getattr(a, key) for key in ALERT_FIELDS} for a in summary.alerts],
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
