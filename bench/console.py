"""The operator's page in Debian's Chromium at the van's 1366 x 768, against a real `lfr serve`:

1. the time to decide 10 queued alerts by keyboard alone, as the page's hint says (j to the
   newest, then m / i, a short reason and Enter for each; the page moves on by itself): the
   keystrokes it took and the wall time from the first key to the last decision in the ledger;
2. from the matcher's POST to the alert's card on screen: p50/p99 over many alerts (goal
   p99 <= 250 ms), beside the raw SSE event (the same event on the page's own stream, stamped
   as the browser dispatches it, before the page renders it) and beside the frame that shows it
   (the main thread's style, layout and paint of that frame done);
3. the renderer's main-thread time over the timed alerts (Chromium's own counters): a figure
   less sensitive to a busy machine than the latency tail.

Writes bench/results/console.json (console_postgres.json with --postgres); `--trace FILE` also
writes a Chrome trace of the timed alerts, to open in DevTools' Performance panel.

    .venv/bin/python bench/console.py [--alerts 200] [--gap-ms 100] [--queued 10] [--postgres]

With --postgres, two `lfr serve` nodes share a schema of their own on the PostgreSQL at
LFR_BENCH_DATABASE_URL (dropped afterwards): the page is open on the first node and the matcher
posts to the second, so each alert reaches the page through the database's NOTIFY.

Each alert is posted as the HTTP matcher posts it (its own id, so the page's arrival can be
matched to the POST); the clock is the page's `performance.timeOrigin + performance.now()` and
the client's `time.time()`, one machine's wall clock. The timed alerts carry no face crop and
stay undecided, so the queue grows to `--alerts` cards: a busier screen than a van's.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from playwright.sync_api import ViewportSize, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import prepare_live, start_server  # noqa: E402
from bench.common import CHROMIUM_ARGS, PG_URL, write_result  # noqa: E402
from lfr_ledger.api.auth import issue_token  # noqa: E402
from lfr_ledger.api.console.sessions import SessionStore  # noqa: E402
from lfr_ledger.config.settings import Settings  # noqa: E402
from lfr_ledger.domain.clock import utcnow  # noqa: E402

VAN: ViewportSize = {"width": 1366, "height": 768}  # the operator's laptop in the van
# Before the page's own scripts run: every EventSource the page opens stamps each alert.raised
# event as the browser dispatches it (this listener is added first, so it runs first).
STAMP_STREAM = """(() => {
  window.eventAt = {};
  const Original = window.EventSource;
  window.EventSource = class extends Original {
    constructor(...args) {
      super(...args);
      this.addEventListener("alert.raised", (e) => {
        const id = JSON.parse(e.data).id;
        if (!(id in eventAt)) eventAt[id] = performance.timeOrigin + performance.now();
      });
    }
  };
})();"""
# Stamps each card as it enters the queue, and again once the main thread has drawn the frame
# that holds it (a task queued from that frame's animation callback runs after its style, layout
# and paint): the page's rendering of the card, which the first stamp does not include.
STAMP_CARDS = """() => {
  window.cardAt = {};
  window.frameAt = {};
  const now = () => performance.timeOrigin + performance.now();
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) {
      const id = node.dataset && node.dataset.alertId;
      if (!id || id in cardAt) continue;
      cardAt[id] = now();
      requestAnimationFrame(() => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => (frameAt[id] = now());
        channel.port2.postMessage(null);
      });
    }
  }).observe(document.getElementById("queue"), { childList: true });
}"""


def main_thread_work(cdp: Any) -> dict[str, float]:
    """The renderer's main-thread totals so far (seconds, counts): CPU-like, less sensitive to
    a busy machine than the latency tail."""
    wanted = (
        "TaskDuration",
        "ScriptDuration",
        "RecalcStyleDuration",
        "LayoutDuration",
        "RecalcStyleCount",
        "LayoutCount",
    )
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return {m["name"]: float(m["value"]) for m in metrics if m["name"] in wanted}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def figures(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 1),
        "p99_ms": round(percentile(values, 0.99), 1),
        "max_ms": round(max(values), 1),
    }


# What the operator types for each alert: a decision key, a reason, Enter (no match would
# add the false-alert factor step; match and inconclusive alternate).
REASONS = ("Same scar over the left eyebrow", "Face half turned away")


def post_alert(client: httpx.Client, deployment: Any, entry: Any, matcher: str) -> str:
    alert_id = str(uuid.uuid4())
    body: dict[str, Any] = {
        "alert_id": alert_id,
        "camera_id": "cam-1",
        "entry_id": str(entry),
        "similarity": 0.8,
        "captured_at": utcnow().isoformat(),
    }
    response = client.post(
        f"/deployments/{deployment}/alerts",
        json=body,
        headers={"Authorization": f"Bearer {matcher}"},
    )
    assert response.status_code == 201, response.text
    return alert_id


def decide_by_keyboard(
    page: Any, client: httpx.Client, ids: tuple[Any, Any], tokens: tuple[str, str], queued: int
) -> dict[str, Any]:
    """`queued` alerts raised, then decided with the keys alone; the ledger checked after.
    `ids`: the deployment's and its entry's; `tokens`: the matcher's and the operator's."""
    (deployment, entry), (matcher, operator) = ids, tokens
    raised = [post_alert(client, deployment, entry, matcher) for _ in range(queued)]
    page.locator(".alert-card.pending").nth(queued - 1).wait_for()
    keystrokes = 0
    started = time.perf_counter()
    page.keyboard.press("j")
    keystrokes += 1
    for n in range(queued):
        key, reason = ("m", REASONS[0]) if n % 2 == 0 else ("i", REASONS[1])
        page.keyboard.press(key)
        page.keyboard.type(reason)
        page.keyboard.press("Enter")
        keystrokes += 2 + len(reason)
        # As the operator waits to see the page move on: the decision recorded, the next in focus.
        page.wait_for_function(
            "n => document.querySelectorAll('.alert-card.pending').length <= n",
            arg=queued - n - 1,
        )
    page.wait_for_function("() => !document.querySelector('.alert-card.pending')", timeout=30_000)
    on_page = time.perf_counter() - started
    headers = {"Authorization": f"Bearer {operator}"}
    listed = client.get(f"/deployments/{deployment}/alerts", headers=headers).json()["alerts"]
    decided = {a["id"]: a["decision"] for a in listed if a["id"] in raised}
    assert sorted(decided) == sorted(raised) and all(decided.values()), decided
    return {
        "alerts": queued,
        "keystrokes": keystrokes,
        "keys_besides_reasons": 1 + 2 * queued,
        "wall_time_s": round(on_page, 2),
        "per_alert_s": round(on_page / queued, 2),
        "note": "scripted typing (Playwright's keyboard, no delay between keys): the page's "
        "own cost per decision, not a person's reading and typing time",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=100.0, help="pause between alerts")
    parser.add_argument("--queued", type=int, default=10, help="alerts decided by keyboard")
    parser.add_argument(
        "--trace", type=Path, help="write a Chrome trace of the timed alerts (open in DevTools)"
    )
    parser.add_argument("--chromium", default=os.environ.get("LFR_CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="two nodes on PostgreSQL: the page on one, the matcher posting to the other",
    )
    args = parser.parse_args()
    schema = f"bench_console_{secrets.token_hex(5)}" if args.postgres else None
    if schema is not None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        return run(args, schema)
    finally:
        if schema is not None:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run(args: argparse.Namespace, schema: str | None) -> int:
    with tempfile.TemporaryDirectory(prefix="lfr-bench-console-") as tmp:
        data_dir = Path(tmp) / "var"
        secret = secrets.token_urlsafe(48)
        store = (
            None if schema is None else {"LFR_DATABASE_URL": PG_URL, "LFR_POSTGRES_SCHEMA": schema}
        )
        settings = Settings(
            data_dir=data_dir,
            jwt_secret=secret,
            database_url=None if schema is None else PG_URL,
            postgres_schema=schema,
        )
        deployment, entry, _ = prepare_live(settings)
        proc, url = start_server(data_dir, secret, store)
        # The matcher's node: the same server, or a second one on the same schema.
        procs = [proc]
        post_url = url
        posted: dict[str, float] = {}
        try:
            if schema is not None:
                # The nodes share the vault's KEK (the token secret comes with the environment).
                other_dir = Path(tmp) / "node-b" / "var"
                other_dir.mkdir(parents=True)
                shutil.copy2(Path(tmp) / "var.kek", other_dir.parent / "var.kek")
                other, post_url = start_server(other_dir, secret, store)
                procs.append(other)
            sessions = SessionStore(settings)
            operator = issue_token(settings, role="operator", sub="PC-BENCH")
            code = sessions.add_link(operator)
            sessions.close()
            matcher = issue_token(
                settings, role="matcher", sub="matcher-bench", deployment_id=str(deployment)
            )
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=VAN)
                page.add_init_script(STAMP_STREAM)
                page.goto(f"{url}/console/sign-in/{code}")
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/console/operator")
                page.locator("#stream-state").filter(has_text="live").wait_for()
                with httpx.Client(base_url=post_url, timeout=30) as client:
                    keyboard = decide_by_keyboard(
                        page, client, (deployment, entry), (matcher, operator), args.queued
                    )
                    page.evaluate(STAMP_CARDS)
                    cdp = page.context.new_cdp_session(page)
                    cdp.send("Performance.enable")
                    if args.trace:
                        browser.start_tracing(page=page, path=str(args.trace), screenshots=False)
                    work_before = main_thread_work(cdp)
                    for _ in range(args.alerts):
                        before = time.time() * 1000
                        alert_id = post_alert(client, deployment, entry, matcher)
                        posted[alert_id] = before
                        time.sleep(args.gap_ms / 1000)
                page.wait_for_function(
                    "n => Object.keys(cardAt).length >= n", arg=args.alerts, timeout=60_000
                )
                page.wait_for_function(
                    "n => Object.keys(eventAt).length >= n", arg=args.alerts, timeout=60_000
                )
                page.wait_for_timeout(2500)  # the last card's arrival shown in full
                work = {k: round(v - work_before[k], 3) for k, v in main_thread_work(cdp).items()}
                if args.trace:
                    browser.stop_tracing()
                cards: dict[str, float] = page.evaluate("cardAt")
                frames: dict[str, float] = page.evaluate("frameAt")
                events: dict[str, float] = page.evaluate("eventAt")
                browser.close()
        finally:
            for node in procs:
                node.terminate()
                node.wait(timeout=10)

    on_screen = [cards[a] - t for a, t in posted.items()]
    on_stream = [events[a] - t for a, t in posted.items()]
    added = [cards[a] - events[a] for a in posted]
    drawn = [frames[a] - t for a, t in posted.items()]
    result = {
        "benchmark": "console",
        "server": (
            "lfr serve (uvicorn, 1 process), embedded SQLite, loopback"
            if schema is None
            else "two lfr serve nodes (uvicorn, 1 process each) on one PostgreSQL schema, "
            "loopback; the page on one, the matcher posting to the other"
        ),
        "browser": "Debian chromium, headless, driven by Playwright",
        "alerts": args.alerts,
        "gap_ms": args.gap_ms,
        "post_to_card": figures(on_screen),
        "post_to_sse_event": figures(on_stream),
        "card_after_sse_event": figures(added),
        "post_to_frame_drawn": figures(drawn),
        "main_thread_during_alerts": work,
        "viewport": VAN,
        "decide_by_keyboard": keyboard,
        "goal": "p99 post_to_card <= 250 ms; the page adds <= 100 ms over the stream",
        "load_average_after": os.getloadavg(),
    }
    path = write_result("console" if schema is None else "console_postgres", result)
    frame = result["post_to_frame_drawn"]
    print(f"renderer main thread over the alerts (+2.5 s): {work}")
    print(
        f"{keyboard['alerts']} queued alerts decided by keyboard: {keyboard['keystrokes']} "
        f"keystrokes ({keyboard['keys_besides_reasons']} besides the reasons' text) in "
        f"{keyboard['wall_time_s']} s"
    )
    print(
        f"{args.alerts} alerts: POST to card p50 {result['post_to_card']['p50_ms']} ms, "
        f"p99 {result['post_to_card']['p99_ms']} ms; POST to SSE event p50 "
        f"{result['post_to_sse_event']['p50_ms']} ms, p99 {result['post_to_sse_event']['p99_ms']}"
        f" ms; the page adds p50 {result['card_after_sse_event']['p50_ms']} ms, p99 "
        f"{result['card_after_sse_event']['p99_ms']} ms; POST to the frame drawn p50 "
        f"{frame['p50_ms']} ms, p99 {frame['p99_ms']} ms -> {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
