"""Console sessions and sign-in links, on SQLite and on the real PostgreSQL: opened only from a
verified token, ended by idle time, by the token's own expiry and by signing out; a link's
code works once."""

from __future__ import annotations

from pathlib import Path

from lfr_ledger.api.auth import TokenVerifier
from lfr_ledger.api.cli.demo import _console_links
from lfr_ledger.api.console.sessions import IDLE_SECONDS, TOUCH_EVERY_SECONDS, SessionStore
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role

OPERATOR = Actor("PC-3381", Role.OPERATOR, rank="constable", force="Northamptonshire Police")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_lives_while_used_and_ends_when_idle(settings: Settings) -> None:
    clock = Clock()
    store = SessionStore(settings, clock=clock)
    try:
        sid, opened = store.open(OPERATOR, expires_at=clock.now + 8 * 3600)
        resumed = store.resume(sid)
        assert resumed is not None and resumed.actor == OPERATOR
        assert resumed.csrf == opened.csrf and resumed.csrf_matches(opened.csrf)
        assert not resumed.csrf_matches(None) and not resumed.csrf_matches(opened.csrf + "x")
        # Used every few minutes, it outlives the idle limit many times over.
        for _ in range(10):
            clock.now += IDLE_SECONDS - TOUCH_EVERY_SECONDS - 1
            assert store.resume(sid) is not None
        clock.now += IDLE_SECONDS
        assert store.resume(sid) is None
        assert store.resume("not-a-session") is None
    finally:
        store.close()


def test_a_session_never_outlives_its_token_and_ends_on_sign_out(settings: Settings) -> None:
    clock = Clock()
    store = SessionStore(settings, clock=clock)
    try:
        sid, _ = store.open(OPERATOR, expires_at=clock.now + 600)
        clock.now += 599
        assert store.resume(sid) is not None
        clock.now += 1
        assert store.resume(sid) is None  # the token expired: so did the session
        other, _ = store.open(OPERATOR, expires_at=clock.now + 600)
        store.end(other)
        assert store.resume(other) is None
    finally:
        store.close()


def test_a_link_code_works_once_and_only_in_time(settings: Settings) -> None:
    clock = Clock()
    store = SessionStore(settings, clock=clock)
    try:
        code = store.add_link("token-a", lifetime_seconds=60)
        assert store.take_link(code) == "token-a"
        assert store.take_link(code) is None
        late = store.add_link("token-b", lifetime_seconds=60)
        clock.now += 60
        assert store.take_link(late) is None
        assert store.take_link("made-up") is None
    finally:
        store.close()


def test_the_store_keeps_digests_not_secrets(settings: Settings) -> None:
    store = SessionStore(settings)
    try:
        sid, _ = store.open(OPERATOR, expires_at=store.clock() + 60)
        code = store.add_link("token-c")
        with store._cursor() as run:
            ids = [row[0] for row in run("SELECT id_hash FROM console_sessions", ())]
            codes = [row[0] for row in run("SELECT code_hash FROM console_links", ())]
        assert sid not in ids and len(ids) == 1 and len(ids[0]) == 64
        assert code not in codes and len(codes) == 1
    finally:
        store.close()


def test_the_demo_prints_a_working_link_for_every_role_with_a_page(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    links = _console_links(settings, "http://127.0.0.1:8000")
    verifier = TokenVerifier.from_settings(settings)
    store = SessionStore(settings)
    try:
        roles = set()
        for actor, link in links:
            assert link.startswith("http://127.0.0.1:8000/console/sign-in/")
            token = store.take_link(link.rsplit("/", 1)[-1])
            assert token is not None and verifier.actor(token) == actor
            roles.add(actor.role)
    finally:
        store.close()
    assert roles == set(Role) - {Role.MATCHER}
