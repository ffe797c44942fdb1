"""A matcher node without the database (issue 15): it reads its deployment's live terms and
its watchlist changes (templates included) from the HTTP API, under a matcher token bound to the
deployment, and its own index then answers as the index that follows the ledger does. The API
is the real app (Litestar's TestClient is an httpx client, so the node's own `MatcherApi` talks
to it), on both stores."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import numpy as np
import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.demo.sample_deployment import (
    AO,
    AUTHORITY,
    COMPILER,
    MODEL,
    OPERATOR,
    SIGNAGE,
    WINDOW_START,
    proposed,
    subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import NotFound
from lfr_ledger.domain.records import ConsultationTopic
from lfr_ledger.matching.index.follower import WatchlistIndex
from lfr_ledger.matching.node.live_terms import LedgerWatch
from lfr_ledger.matching.node.remote import ApiWatch, ApiWatchlistFeed
from lfr_ledger.matching.node.sinks import MatcherApi, SinkUnavailable
from tests.conftest import Clock
from tests.test_index import enrol_vector, unit

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
def client(settings: Settings, ledger: CaseLedger) -> Iterator[Client]:
    with TestClient(create_app(settings, ledger=ledger)) as test_client:
        yield test_client


def matcher_api(settings: Settings, client: Client, deployment: UUID) -> MatcherApi:
    token = issue_token(settings, role="matcher", sub="van-7", deployment_id=str(deployment))
    return MatcherApi("", token, client=client, retries=0)


def template_reads(ledger: CaseLedger, deployment: UUID) -> int:
    """Consultations recorded for this deployment's templates (the record names no person)."""
    found = ledger.recorder.select_notifications(0, 10_000, topics=[ConsultationTopic.RECORDED])
    records = [ledger.mapper.to_domain_event(n).record for n in found]  # type: ignore[attr-defined]
    return records.count(f"watchlist_templates:{deployment}")


def test_a_remote_index_follows_only_its_deployment_through_the_api(
    ledger: CaseLedger, settings: Settings, client: Client, tmp_path: Path
) -> None:
    rng = np.random.default_rng(15)
    vectors = unit(rng, 4)
    mine = proposed(ledger)
    other = proposed(ledger)
    entries = [enrol_vector(ledger, mine, i, vectors[i]) for i in range(3)]
    theirs = enrol_vector(ledger, other, 3, vectors[3])
    feed = ApiWatchlistFeed(matcher_api(settings, client, mine), mine)

    with WatchlistIndex(tmp_path / "node" / "watchlist.sqlite") as remote:
        assert remote.follow(feed, batch_size=2) > 0  # several pages
        assert sorted(remote.entry_ids(mine)) == sorted(entries)
        assert remote.count(other) == 0 and remote.model_of(other) is None  # never sent
        for vector, entry in zip(vectors, entries, strict=False):
            [best] = remote.search(mine, vector, model_id=MODEL)
            assert best.entry_id == entry
            assert best.similarity == pytest.approx(1.0, abs=1e-5)
        assert template_reads(ledger, mine) == 2  # the two pages that held templates
        assert remote.follow(feed) == 0  # nothing new: nothing applied, nothing logged
        assert template_reads(ledger, mine) == 2

        # Withdrawals reach the node; another deployment's withdrawal is not even named.
        ledger.withdraw_entry(COMPILER, entries[0], reason="arrested elsewhere")
        ledger.withdraw_entry(COMPILER, theirs, reason="arrested elsewhere")
        page = feed.page(remote.position, 500)
        assert [getattr(c, "entry_id", None) for c in page.changes] == [entries[0]]
        assert page.notifications == 2 and page.end == ledger.recorder.max_notification_id()
        remote.follow(feed)
        assert sorted(remote.entry_ids(mine)) == sorted(entries[1:])
        assert remote.position == ledger.recorder.max_notification_id()
        assert template_reads(ledger, mine) == 2  # a removal holds no template

    # The same deployment as the index that follows the ledger itself sees it.
    with WatchlistIndex.open(settings) as local:
        local.sync(ledger)
        assert sorted(local.entry_ids(mine)) == sorted(entries[1:])


def test_only_the_deployments_own_matcher_reads_its_terms_and_templates(
    ledger: CaseLedger, settings: Settings, client: Client
) -> None:
    mine = proposed(ledger)
    other = proposed(ledger)
    enrol_vector(ledger, mine, 1, unit(np.random.default_rng(1))[0])
    routes = (f"/deployments/{mine}/watchlist/changes", f"/deployments/{mine}/live-terms")

    def token(role: str, **claims: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(settings, role=role, sub='x-1', **claims)}"}

    for path in routes:
        assert client.get(path, headers=token("matcher", deployment_id=str(mine))).is_success
        refused = client.get(path, headers=token("matcher", deployment_id=str(other)))
        assert refused.status_code == 403 and "bound to deployment" in refused.json()["detail"]
        for role in ("operator", "oversight", "analyst", "watchlist_manager", "admin"):
            assert client.get(path, headers=token(role)).status_code == 403, (path, role)
    assert template_reads(ledger, mine) == 1  # only the matcher's read, once

    nowhere = uuid4()
    lost = client.get(
        f"/deployments/{nowhere}/watchlist/changes",
        headers=token("matcher", deployment_id=str(nowhere)),
    )
    assert lost.status_code == 404 and lost.json()["detail"]
    with pytest.raises(NotFound):
        ApiWatch(matcher_api(settings, client, nowhere), nowhere).terms()
    bad = client.get(
        f"/deployments/{mine}/watchlist/changes",
        params={"limit": 0},
        headers=token("matcher", deployment_id=str(mine)),
    )
    assert bad.status_code == 400 and "limit" in bad.text


def test_the_api_watch_sees_the_terms_the_ledger_holds(
    ledger: CaseLedger, settings: Settings, client: Client, clock: Clock
) -> None:
    deployment = proposed(ledger)
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    watch = ApiWatch(matcher_api(settings, client, deployment), deployment)
    assert watch.terms() == LedgerWatch(ledger, deployment).terms()
    assert not watch.terms().is_live
    ledger.enrol(COMPILER, deployment, subject(1))
    ledger.review_watchlist(AO, deployment, confirmed_count=1, not_excessive=True)
    clock.now = WINDOW_START
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    assert watch.terms().is_live
    ledger.pause_deployment(OPERATOR, deployment, reason="crowd too dense")
    assert watch.terms().status == "paused"
    assert watch.terms() == LedgerWatch(ledger, deployment).terms()


def test_a_node_that_does_not_answer_is_retried_then_reported() -> None:
    with socket.socket() as probe:  # a port nothing listens on: a real refused connection
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = MatcherApi(
        [f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}"],
        "token",
        retries=2,
        backoff_seconds=0.0,
    )
    try:
        with pytest.raises(SinkUnavailable, match="after 3 attempts"):
            api.request("GET", "/deployments/x/live-terms")
        with pytest.raises(SinkUnavailable, match=r"failed \(ConnectError"):
            api.request("POST", "/deployments/x/heartbeat", body={})  # once: no key, no retry
    finally:
        api.close()
