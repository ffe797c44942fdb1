"""The watchlist index: a projection of each deployment's active, templated entries, searched
by cosine similarity. The ledger runs on both backends; the index is always a local SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import cv2
import numpy as np
import pytest

from lfr_ledger.api.demo.sample_deployment import AO, COMPILER, MODEL, authorised, proposed, subject
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.matching.engines.enrolment import enrol_from_image
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.index.follower import WatchlistIndex
from lfr_ledger.matching.index.vectors import (
    Candidate,
    ModelMismatch,
    UnknownDeployment,
    VectorRefused,
    index_path,
)
from lfr_ledger.matching.packs.samples import sample_identities, variants

DIM = 128


@pytest.fixture
def index(settings: Settings) -> Iterator[WatchlistIndex]:
    with WatchlistIndex.open(settings) as opened:
        yield opened


def unit(rng: np.random.Generator, n: int = 1, dim: int = DIM) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def enrol_vector(ledger: CaseLedger, deployment: UUID, n: int, vector: np.ndarray) -> UUID:
    return ledger.enrol(
        COMPILER,
        deployment,
        subject(n),
        image=b"portrait",
        template=vector.astype("<f4").tobytes(),
        model_id=MODEL,
    )


def index_bytes(path: Path) -> bytes:
    """Everything SQLite keeps on disk for the index: the file and its WAL, if any."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_index_lives_in_the_data_dir(settings: Settings, index: WatchlistIndex) -> None:
    assert index.path == settings.data_dir / "index" / "watchlist.sqlite" == index_path(settings)
    assert index.path.exists()


def test_sync_indexes_active_entries_that_carry_a_template(
    ledger: CaseLedger, index: WatchlistIndex
) -> None:
    rng = np.random.default_rng(1)
    deployment = authorised(ledger)
    vectors = unit(rng, 3)
    with_template = [enrol_vector(ledger, deployment, i, vectors[i]) for i in range(3)]
    # An entry for an external matcher: references only, nothing to index.
    ledger.enrol(COMPILER, deployment, subject(9))

    assert index.sync(ledger) > 0
    assert sorted(index.entry_ids(deployment)) == sorted(with_template)
    assert index.model_of(deployment) == MODEL
    assert index.position == ledger.recorder.max_notification_id()
    assert index.sync(ledger) == 0  # nothing new: nothing applied

    for vector, entry_id in zip(vectors, with_template, strict=True):
        [best] = index.search(deployment, vector, model_id=MODEL)
        assert best.entry_id == entry_id
        assert best.similarity == pytest.approx(1.0, abs=1e-5)


def test_withdrawn_and_destroyed_entries_leave_on_the_next_sync(
    ledger: CaseLedger, index: WatchlistIndex
) -> None:
    rng = np.random.default_rng(2)
    deployment = proposed(ledger)
    vectors = unit(rng, 3)
    ids = [enrol_vector(ledger, deployment, i, vectors[i]) for i in range(3)]
    index.sync(ledger)
    # The runner's copy of the vectors is warm before the withdrawal.
    assert index.search(deployment, vectors[0], model_id=MODEL)[0].entry_id == ids[0]

    ledger.withdraw_entry(COMPILER, ids[0], reason="arrested elsewhere")
    index.sync(ledger)
    assert ids[0] not in index.entry_ids(deployment)
    assert ids[0] not in [
        c.entry_id for c in index.search(deployment, vectors[0], 3, model_id=MODEL)
    ]

    ledger.refuse_deployment(AO, deployment, reason="intelligence case too weak")
    ledger.destroy_watchlist(deployment, rule="deployment refused")
    index.sync(ledger)
    assert index.count(deployment) == 0
    assert index.search(deployment, vectors[1], model_id=MODEL) == []


def test_another_process_sees_a_withdrawal_at_once(ledger: CaseLedger, settings: Settings) -> None:
    """Two index handles on one file (the runner and `lfr watchlist index-sync`): a withdrawal
    synced by one is never matched by the other, whose in-memory copy is older."""
    rng = np.random.default_rng(3)
    deployment = authorised(ledger)
    vectors = unit(rng, 2)
    ids = [enrol_vector(ledger, deployment, i, vectors[i]) for i in range(2)]
    with WatchlistIndex.open(settings) as runner, WatchlistIndex.open(settings) as syncer:
        syncer.sync(ledger)
        assert runner.search(deployment, vectors[0], model_id=MODEL)[0].entry_id == ids[0]
        ledger.withdraw_entry(COMPILER, ids[0], reason="withdrawn by the AO")
        syncer.sync(ledger)
        assert runner.search(deployment, vectors[0], model_id=MODEL)[0].entry_id == ids[1]
        assert runner.sync(ledger) == 0  # the tracking position is shared through the file


def test_a_warm_copy_catches_up_with_changes_made_elsewhere(tmp_path: Path) -> None:
    rng = np.random.default_rng(10)
    deployment = uuid4()
    path = tmp_path / "index.sqlite"
    first, later = unit(rng, 300), unit(rng, 5)
    ids = [uuid4() for _ in first]
    with WatchlistIndex(path) as warm, WatchlistIndex(path) as writer:
        writer.load_vectors(deployment, MODEL, zip(ids, first, strict=True))
        assert warm.search(deployment, first[0], model_id=MODEL)[0].entry_id == ids[0]
        # New entries, and an existing entry given a new vector.
        new_ids = [uuid4() for _ in later]
        writer.load_vectors(deployment, MODEL, zip(new_ids, later, strict=True))
        moved = unit(rng)
        writer.load_vectors(deployment, MODEL, [(ids[1], moved[0])])
        probes = np.concatenate([first[:3], later, moved])
        with WatchlistIndex(path) as fresh:
            expected = fresh.search_many(deployment, probes, 3, model_id=MODEL)
        got = warm.search_many(deployment, probes, 3, model_id=MODEL)
        assert [[c.entry_id for c in r] for r in got] == [[c.entry_id for c in r] for r in expected]
        assert got[1][0].entry_id != ids[1]  # its old vector is gone
        assert got[-1][0].entry_id == ids[1]  # its new one is found
        assert warm.search(deployment, later[1], model_id=MODEL)[0].entry_id == new_ids[1]


def test_a_query_from_another_model_is_refused(ledger: CaseLedger, index: WatchlistIndex) -> None:
    deployment = authorised(ledger)
    probe = unit(np.random.default_rng(4))[0]
    index.sync(ledger)
    # Known from the proposal, before any entry: an empty watchlist still has a model.
    assert index.model_of(deployment) == MODEL
    assert index.search(deployment, probe, model_id=MODEL) == []
    enrol_vector(ledger, deployment, 1, probe)
    index.sync(ledger)
    with pytest.raises(ModelMismatch, match="sface-2021dec"):
        index.search(deployment, probe, model_id="buffalo_l")
    with pytest.raises(UnknownDeployment):
        index.search(uuid4(), probe, model_id=MODEL)


@pytest.mark.parametrize(
    ("vector", "problem"),
    [
        (np.full(DIM, np.nan, np.float32), "NaN or infinite"),
        (np.r_[np.ones(DIM - 1), np.inf].astype(np.float32), "NaN or infinite"),
        (np.ones(DIM // 2, np.float32), "64 dimensions"),
        (np.zeros(DIM, np.float32), "all zeros"),
    ],
    ids=["nan", "inf", "wrong-dimension", "zero"],
)
def test_non_finite_and_wrong_dimension_vectors_are_refused(
    tmp_path: Path, vector: np.ndarray, problem: str
) -> None:
    deployment = uuid4()
    with WatchlistIndex(tmp_path / "index.sqlite") as index:
        good = unit(np.random.default_rng(5))[0]
        index.load_vectors(deployment, MODEL, [(uuid4(), good)])
        with pytest.raises(VectorRefused, match=problem):
            index.search(deployment, vector, model_id=MODEL)
        with pytest.raises(VectorRefused, match=problem):
            index.load_vectors(deployment, MODEL, [(uuid4(), good), (uuid4(), vector)])
        assert index.count(deployment) == 1  # the refused call wrote nothing


def test_a_bad_template_in_the_log_is_reported_and_does_not_stop_the_projection(
    ledger: CaseLedger, index: WatchlistIndex
) -> None:
    rng = np.random.default_rng(6)
    deployment = authorised(ledger)
    bad = enrol_vector(ledger, deployment, 1, np.full(DIM, np.nan, np.float32))
    good = enrol_vector(ledger, deployment, 2, unit(rng)[0])
    index.sync(ledger)
    assert index.entry_ids(deployment) == [good]
    [(refused_id, reason)] = index.refused(deployment)
    assert refused_id == bad
    assert "NaN" in reason
    ledger.withdraw_entry(COMPILER, bad, reason="bad image")
    index.sync(ledger)
    assert index.refused(deployment) == []


def test_vec0_and_in_memory_search_agree(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    deployment, other = uuid4(), uuid4()
    population = unit(rng, 500)
    ids = [uuid4() for _ in population]
    path = tmp_path / "index.sqlite"
    with WatchlistIndex(path) as memory, WatchlistIndex(path, in_memory=False) as vec0:
        memory.load_vectors(deployment, MODEL, zip(ids, population, strict=True))
        # Another deployment's entries never appear: the deployment is the partition key.
        memory.load_vectors(other, MODEL, [(uuid4(), v) for v in population[:50]])
        probes = population[:20] + 0.3 * unit(rng, 20)
        from_memory = memory.search_many(deployment, probes, 5, model_id=MODEL)
        from_vec0 = vec0.search_many(deployment, probes, 5, model_id=MODEL)
    for got, expected in zip(from_memory, from_vec0, strict=True):
        assert [c.entry_id for c in got] == [c.entry_id for c in expected]
        assert [c.similarity for c in got] == pytest.approx([c.similarity for c in expected], 1e-5)
        assert all(c.entry_id in ids for c in got)
    assert from_memory[0][0].entry_id == ids[0]


def test_rebuild_gives_what_sync_gave(ledger: CaseLedger, index: WatchlistIndex) -> None:
    rng = np.random.default_rng(8)
    deployment = authorised(ledger)
    vectors = unit(rng, 4)
    ids = [enrol_vector(ledger, deployment, i, vectors[i]) for i in range(4)]
    ledger.withdraw_entry(COMPILER, ids[1], reason="duplicate")
    index.sync(ledger)
    synced = index.entry_ids(deployment)
    assert index.rebuild(ledger) > 0
    assert index.entry_ids(deployment) == synced == sorted([ids[0], ids[2], ids[3]])
    assert index.position == ledger.recorder.max_notification_id()
    assert index.search(deployment, vectors[2], model_id=MODEL)[0].entry_id == ids[2]


def test_secure_delete_leaves_no_template_in_the_index_file(
    ledger: CaseLedger, index: WatchlistIndex
) -> None:
    rng = np.random.default_rng(9)
    deployment = authorised(ledger)
    vectors = unit(rng, 2)
    withdrawn = enrol_vector(ledger, deployment, 1, vectors[0])
    enrol_vector(ledger, deployment, 2, vectors[1])
    index.sync(ledger)
    # The index stores unit vectors as little-endian float32: exactly the template's bytes.
    assert vectors[0].astype("<f4").tobytes() in index_bytes(index.path)

    ledger.withdraw_entry(COMPILER, withdrawn, reason="no longer wanted")
    index.sync(ledger)
    stored = index_bytes(index.path)
    assert vectors[0].astype("<f4").tobytes() not in stored
    assert vectors[0].astype("<f4").tobytes()[:32] not in stored
    assert withdrawn not in index.entry_ids(deployment)
    assert vectors[1].astype("<f4").tobytes() in stored


# --- real faces -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def portraits(sface_engine: InsightFaceEngine) -> dict[str, np.ndarray]:
    return sample_identities(sface_engine)


def png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


def test_search_finds_the_enrolled_person_and_not_a_stranger(
    ledger: CaseLedger,
    index: WatchlistIndex,
    sface_engine: InsightFaceEngine,
    portraits: dict[str, np.ndarray],
) -> None:
    deployment = authorised(ledger)
    threshold = ledger.policy.thresholds_for(MODEL).default_threshold
    enrolled = {
        person: enrol_from_image(
            ledger, sface_engine, COMPILER, deployment, subject(n), png(portraits[person])
        )
        for n, person in enumerate(("t1-1", "astronaut"))
    }
    index.sync(ledger)

    for person, entry_id in enrolled.items():
        for name, probe_image in variants(portraits[person])[:6]:
            [face] = sface_engine.analyse(probe_image)
            [best] = index.search(deployment, face.embedding, model_id=MODEL)
            assert best.entry_id == entry_id, f"{person} {name}"
            assert best.similarity >= threshold, f"{person} {name}: {best.similarity:.3f}"

    for stranger in ("t1-0", "t1-4"):
        faces = sface_engine.analyse(portraits[stranger])
        results = index.search_many(
            deployment, np.stack([f.embedding for f in faces]), 2, model_id=MODEL
        )
        for candidates in results:
            assert len(candidates) == 2
            assert all(isinstance(c, Candidate) for c in candidates)
            assert candidates[0].similarity < threshold, stranger
