"""`lfr demo`: the whole system on the embedded SQLite store, in one run.

1. records the seed operation (4 deployments, 13 alerts, 6 arrests, 7 compliance checks);
2. runs a live deployment, a demonstration dated 2026 on the force's own van, in an operation
   of its own: real faces in a street video, matched against a watchlist;
3. serves the HTTP API on loopback and reads back as an analyst the operation, the 2025 period
   and the 2025 publication records, printed beside the press release's figures, with what the
   seed invented and the equality table;
4. prints the events by type and the hash chain's verification.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lfr_ledger.api.cli.output import lfr_command
from lfr_ledger.config.settings import Settings

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification

    from lfr_ledger.api.demo.live import LiveDemoResult
    from lfr_ledger.domain.actors import Actor
    from lfr_ledger.domain.application import CaseLedger


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    parser = subparsers.add_parser(
        "demo", help="record the seed operation, run live matching, serve the API, verify"
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="data directory for the demo (default: $LFR_DATA_DIR/demo); it is recreated",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="keep serving the API on the demo data until interrupted (Ctrl-C)",
    )
    parser.add_argument("--port", type=int, default=0, help="API port (default: a free one)")
    parser.add_argument("--no-live", action="store_true", help="skip the live matching part")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.api.demo.release_check import (
        equality_text,
        invented_text,
        press_release_check,
    )
    from lfr_ledger.api.demo.sample_watchlist import CSV_FILE, FOLDER, try_it_yourself
    from lfr_ledger.api.demo.seed import DemoClock, record_seed_operation
    from lfr_ledger.eventlog.chain.wiring import verify_ledger
    from lfr_ledger.projections.catch_up import catch_up
    from lfr_ledger.projections.report import operation_text

    base = Settings.from_env()
    data_dir: Path = args.dir or base.data_dir / "demo"
    recreated = data_dir.exists()
    if recreated:
        shutil.rmtree(data_dir)
    # The demo always runs on the embedded default, whatever LFR_DATABASE_URL says.
    settings = Settings(data_dir=data_dir, model_dir=base.model_dir)
    clock = DemoClock()
    ledger = build_ledger(settings, clock=clock)
    started = time.perf_counter()
    seed = record_seed_operation(ledger, clock.set)
    elapsed = time.perf_counter() - started

    print(
        f"lfr-ledger demo: data directory {data_dir}"
        + (
            " (the previous demo's data there was deleted: each run starts afresh)"
            if recreated
            else ""
        )
    )
    print(
        f"Recorded the seed operation {seed.operation_id}: {len(seed.deployment_ids)} deployments, "
        f"{len(seed.alert_ids)} alerts, each deployment reviewed, the operation closed, in "
        f"{elapsed:.2f} s"
    )
    live = None if args.no_live else _live(ledger, clock, settings)

    catch_up(settings)
    port = args.port or _free_port()
    with _served(settings, ledger, port) as url:
        if not args.serve:
            # The report is the output; request lines would land in the middle of it.
            logging.getLogger("lfr.access").setLevel(logging.WARNING)
        read = _reader_over_http(settings, url)
        summary = read(f"/operations/{seed.operation_id}/summary")
        print(f"\n== The seed operation, read over HTTP by an analyst ({url}) ==")
        print(operation_text(summary))
        print(
            press_release_check(
                summary,
                read("/statistics/period?year=2025"),
                read("/publication/deployments?year=2025"),
            )
        )
        if live is not None:
            print(_demonstration_apart(read, live))
        print(invented_text())
        print(equality_text(_equality_as_analyst(ledger, settings)))
        counts = Counter(n.topic for n in _all_notifications(ledger))
        print(f"\nEvents by type ({sum(counts.values())} in all):")
        for topic, count in sorted(counts.items()):
            print(f"  {count:6d}  {topic}")
        print(f"\naudit verify: {verify_ledger(settings).summary()}")
        print("\n== Retention ==")
        print(_retention_story(ledger, clock, settings, live))
        report = verify_ledger(settings)
        print(f"audit verify: {report.summary()}")
        if live is not None and live.video is not None:
            print(try_it_yourself(live.video.parent / FOLDER / CSV_FILE, live.video))
        # Commands printed for a fresh shell: no virtualenv active there.
        lfr, here = lfr_command(), f"LFR_DATA_DIR={shlex.quote(str(data_dir))}"
        console = url if args.serve else "http://127.0.0.1:8000"
        first = "Open" if args.serve else f"Run `{here} {lfr} serve`, then open"
        print(
            f"\n== The console ==\n{first} {console}/console with one of these one-time "
            f"sign-in links (each works once, within {DEMO_LINK_MINUTES} minutes; "
            f"`{here} {lfr} console-link --role operator --sub PC-3381` makes more):"
        )
        for actor, link in _console_links(settings, console):
            print(f"  {actor.role.value:<20} {actor.id:<10} {link}")
        if args.serve:
            print(
                f"\nServing the demo ledger at {url} (OpenAPI at {url}/schema). Tokens: "
                f"`{here} {lfr} token --role analyst --sub A-1`. Ctrl-C stops."
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        else:
            print(
                f"\nTo explore it: `{here} {lfr} serve` (or `{lfr} demo --serve`), then open "
                "/schema"
            )
    ledger.close()
    return 0 if report.ok else 1


DEMO_LINK_MINUTES = 60


def _retention_story(
    ledger: CaseLedger, clock: Any, settings: Settings, live: LiveDemoResult | None = None
) -> str:
    """What `lfr serve` would do to this data at start-up, done here and told: the demo's
    deployments are a year old, so their watchlists and alert images are due for destruction."""
    from datetime import UTC, datetime

    from lfr_ledger.api.bootstrap import build_retention, build_subject_index
    from lfr_ledger.api.demo.sample_deployment import OVERSIGHT
    from lfr_ledger.api.demo.seed import seed_subject
    from lfr_ledger.api.personal_data import PersonalData
    from lfr_ledger.domain.clock import utcnow

    now = utcnow()
    clock.set(now)
    report = build_retention(ledger, settings).run(now)
    subject = seed_subject(0, 0).subject_ref
    # The story reads as oversight would, so the read is logged as theirs would be.
    found = PersonalData(ledger, OVERSIGHT).subject_access(
        subject,
        start=datetime(2025, 1, 1, tzinfo=UTC),
        end=now,
        purpose="the demo: what subject access answers after retention",
        index=build_subject_index(settings),
    )
    destroyed = sum(1 for e in found.entries if e.destroyed_at is not None)
    policy, lfr = ledger.policy, lfr_command()
    return "\n".join(
        [
            "The seed's deployments ended in December 2025"
            + (f", the demonstration's on {_live_day():%d %B %Y}" if live else "")
            + f", and it is now {now:%d %B %Y}. "
            f"Policy {policy.version} keeps a watchlist {policy.watchlist_hours_after_end} hours "
            f"after its deployment ends and an alert's images {policy.alert_image_days} days "
            f"after capture, so the demo now does what `{lfr} serve` does at start-up (and "
            f"`{lfr} retention run` from cron), recording each destruction as an event:",
            "  " + report.summary().replace("\n", "\n  "),
            f"Subject access still answers for {subject}: {len(found.entries)} watchlist "
            f"entr{'y' if len(found.entries) == 1 else 'ies'} ({destroyed} destroyed, its name "
            "and image now read [erased]), with every alert and outcome; the events, the "
            "statistics and the chain stay.",
            f"Serving this data (`LFR_DATA_DIR={shlex.quote(str(settings.data_dir))} {lfr} "
            "serve`) destroys nothing "
            "more today: it is already done.",
        ]
    )


def _console_links(settings: Settings, base_url: str) -> list[tuple[Actor, str]]:
    """A sign-in link for each of the demo's people; each carries a one-time code, and its
    token waits in the demo's data directory."""
    from lfr_ledger.api.auth import issue_token
    from lfr_ledger.api.console.sessions import SessionStore
    from lfr_ledger.api.demo.seed import CONSOLE_PEOPLE

    store = SessionStore(settings)
    try:
        return [
            (
                actor,
                f"{base_url}/console/sign-in/"
                + store.add_link(
                    issue_token(
                        settings,
                        role=actor.role,
                        sub=actor.id,
                        rank=actor.rank,
                        force=actor.force,
                        ttl_minutes=8 * 60,
                    ),
                    lifetime_seconds=DEMO_LINK_MINUTES * 60,
                ),
            )
            for actor in CONSOLE_PEOPLE
        ]
    finally:
        store.close()


def _live(ledger: CaseLedger, clock: Any, settings: Settings) -> LiveDemoResult | None:
    from lfr_ledger.api.demo.live import run_live_demo
    from lfr_ledger.api.demo.sample_watchlist import FOLDER, write_sample_watchlist
    from lfr_ledger.matching.engines.model_packs import ModelPackError
    from lfr_ledger.matching.engines.plugins import load_engine

    try:
        engine = load_engine("insightface", "sface", settings.model_dir)
    except ModelPackError as error:
        print(f"\nLive matching demo skipped: {error} (run `{lfr_command()} models fetch`)")
        return None
    live = run_live_demo(ledger, clock, settings, engine)
    write_sample_watchlist(settings.data_dir / FOLDER, engine)
    return live


def _live_day() -> Any:
    from lfr_ledger.api.demo.live import LIVE_DAY

    return LIVE_DAY


def _demonstration_apart(read: Callable[[str], Any], live: LiveDemoResult) -> str:
    """Where the live demonstration's figures are: in its own operation and in 2026."""
    from lfr_ledger.api.demo.live import LIVE_DAY

    demo = read(f"/operations/{live.operation_id}/summary")
    year = read(f"/statistics/period?year={LIVE_DAY.year}")
    totals = demo["totals"]
    return (
        f"  demonstration      '{demo['name']}': {demo['deployment_count']} deployment on "
        f"{LIVE_DAY:%d %B %Y}, the force's own van, {totals['alerts']} alerts, "
        f"{totals['arrests']} arrest, {totals['compliance_checks']} compliance check; in the "
        f"{LIVE_DAY.year} period report ({year['deployments']} deployment), in none of the "
        "figures above"
    )


def _equality_as_analyst(ledger: CaseLedger, settings: Settings) -> dict[str, Any]:
    """The equality table for alerts captured in 2025, as `lfr equality` gives an analyst."""
    from datetime import UTC, datetime

    from lfr_ledger.api.demo.seed import ANALYST
    from lfr_ledger.api.personal_data import Audience, PersonalData

    report = PersonalData(ledger, ANALYST, settings=settings).equality(
        audience=Audience.ANALYST,
        start=datetime(2025, 1, 1, tzinfo=UTC),
        end=datetime(2026, 1, 1, tzinfo=UTC),
    )
    table: dict[str, Any] = report.to_dict()
    return table


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _served:
    """The real HTTP app on loopback, in this process, sharing the demo's ledger."""

    def __init__(self, settings: Settings, ledger: CaseLedger, port: int) -> None:
        import uvicorn

        from lfr_ledger.api.app import create_app

        app = create_app(settings, ledger=ledger)
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the demo API server did not start")
            time.sleep(0.05)
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _reader_over_http(settings: Settings, url: str) -> Callable[[str], Any]:
    """GET a path of the demo's API as an analyst, and its JSON."""
    import httpx

    from lfr_ledger.api.auth import issue_token

    logging.getLogger("httpx").setLevel(logging.WARNING)  # the demo prints what matters
    token = issue_token(settings, role="analyst", sub="ANALYST-1")

    def read(path: str) -> Any:
        response = httpx.get(
            f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    return read


def _all_notifications(ledger: CaseLedger) -> list[Notification]:
    from lfr_ledger.domain.notification_log import notifications

    return list(notifications(ledger.recorder))
