"""Threshold evidence (issue 24): `lfr models evaluate` measures the installed pack on labelled
faces (error rates with exact intervals, by group) in a report signed with the ledger's key, the
report is recorded as a `model_evaluation` in the governance register, and a threshold change
must cite a current evaluation of the deployment's model."""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import cv2
import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.cli import main
from lfr_ledger.api.demo.sample_deployment import (
    ADMIN,
    AO,
    DOCUMENTS_REVIEW_BY,
    EVALUATION_REF,
    MODEL,
    proposed,
    register_evaluation,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.errors import PolicyViolation
from lfr_ledger.domain.governance import GovernanceDocument
from lfr_ledger.domain.policy import Policy
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.packs.drift_gate import write_face_folder
from lfr_ledger.matching.packs.error_rates import (
    Labelled,
    ProtocolError,
    Watchlist,
    choose_watchlist,
    rates_at,
    score,
)
from lfr_ledger.matching.packs.intervals import Rate, clopper_pearson, ratio_to_lowest
from lfr_ledger.matching.packs.samples import VARIANTS, sample_identities
from tests.fixtures_faces import central_embedding
from tests.test_api import AO as AO_CLAIMS
from tests.test_api import Api, assert_problem
from tests.test_invariants import refused

# --- intervals ------------------------------------------------------------------------------


def test_clopper_pearson_matches_known_values() -> None:
    # 0 of n: the upper bound is 1 - 0.025^(1/n) exactly; 0 of 100 is the textbook 3.62 %.
    assert clopper_pearson(0, 100) == (0.0, pytest.approx(0.036217, abs=1e-6))
    assert clopper_pearson(0, 52)[1] == pytest.approx(1 - 0.025 ** (1 / 52), rel=1e-9)
    assert clopper_pearson(100, 100) == (pytest.approx(0.963783, abs=1e-6), 1.0)
    # 5 of 100, as published tables give it: 0.0164 to 0.1128.
    low, high = clopper_pearson(5, 100)
    assert (round(low, 4), round(high, 4)) == (0.0164, 0.1128)
    # 1 of 2: symmetric, 0.0126 to 0.9874.
    assert clopper_pearson(1, 2) == (pytest.approx(0.012579, abs=1e-6), pytest.approx(0.987421))
    with pytest.raises(ValueError):
        clopper_pearson(3, 2)
    assert Rate(0, 0).to_dict() == {"count": 0, "trials": 0, "rate": None, "ci95": None}


def test_differentials_compare_to_the_lowest_group_and_say_when_intervals_are_apart() -> None:
    close = ratio_to_lowest({"a": Rate(2, 100), "b": Rate(4, 100)})
    assert close == {"lowest": "a", "ratios": {"a": 1.0, "b": 2.0}, "intervals_apart": False}
    apart = ratio_to_lowest({"a": Rate(1, 1000), "b": Rate(100, 1000), "c": Rate(0, 0)})
    assert apart["ratios"] == {"a": 1.0, "b": 100.0} and apart["intervals_apart"] is True
    # A lowest rate of 0 defines no ratio: null, never infinity.
    assert ratio_to_lowest({"a": Rate(0, 50), "b": Rate(3, 50)})["ratios"] == {
        "a": None,
        "b": None,
    }


# --- the protocol on embeddings built by hand --------------------------------------------------


def _hand_made() -> Labelled:
    """Six images of three people whose every similarity is known: a0·a1 0.8, b0·b1 0.6,
    c0·a0 0.7, c0·a1 0.56, every other pair 0."""
    e = np.eye(6)
    vectors = [
        e[0],
        0.8 * e[0] + 0.6 * e[1],
        e[2],
        0.6 * e[2] + 0.8 * e[3],
        0.7 * e[0] + math.sqrt(0.51) * e[4],
        e[5],
    ]
    return Labelled(
        np.array(vectors, dtype=np.float32),
        ("a", "a", "b", "b", "c", "c"),
        ("enrol", "x", "enrol", "x", "enrol", "x"),
    )


def test_error_rates_count_pairs_and_probes_as_the_protocol_says() -> None:
    labelled = _hand_made()
    watchlist = Watchlist(("a", "b"), (0, 2), seed=0)
    scores = score(labelled, watchlist)
    at = rates_at(scores, 0.65)
    assert (at.fmr.count, at.fmr.trials) == (1, 12)  # c0·a0 0.7
    assert (at.fnmr.count, at.fnmr.trials) == (2, 3)  # b 0.6 and c 0 miss
    assert (at.tpir.count, at.tpir.trials) == (1, 2)  # a1 finds a; b1 at 0.6 does not
    assert (at.fpir.count, at.fpir.trials) == (1, 2)  # c0 alerts on a at 0.7
    assert at.wrong_entry == 0
    at = rates_at(scores, 0.5)
    assert (at.fmr.count, at.fnmr.count, at.tpir.count, at.fpir.count) == (2, 1, 2, 1)
    # A group: its people's genuine pairs and probes, impostor pairs of two of its people.
    group = rates_at(scores, 0.65, {"a", "c"})
    assert (group.fmr.count, group.fmr.trials) == (1, 4)
    assert (group.fnmr.count, group.fnmr.trials) == (1, 2)
    assert (group.tpir.count, group.tpir.trials, group.fpir.trials) == (1, 1, 2)


def test_a_mated_probe_alerting_on_someone_else_is_a_wrong_entry_not_a_hit() -> None:
    e = np.eye(4)
    labelled = Labelled(
        np.array([e[0], e[1], 0.9 * e[0] + math.sqrt(0.19) * e[2], e[3]], dtype=np.float32),
        ("a", "b", "b", "c"),
        ("enrol", "enrol", "x", "enrol"),
    )
    # b's probe looks like a (0.9) and nothing like b (0): an alert naming the wrong person.
    at = rates_at(score(labelled, Watchlist(("a", "b"), (0, 1), seed=0)), 0.5)
    assert (at.tpir.count, at.tpir.trials, at.wrong_entry) == (0, 1, 1)
    assert at.fnir.count == 1


def test_the_watchlist_is_drawn_reproducibly_from_people_with_two_images() -> None:
    labelled = _hand_made()
    first = choose_watchlist(labelled, 2, seed=0)
    assert first == choose_watchlist(labelled, 2, seed=0)
    assert all(labelled.images[i] == "enrol" for i in first.enrolled)
    draws = {choose_watchlist(labelled, 1, seed=s).people for s in range(20)}
    assert len(draws) > 1, "the seed must change who is listed"
    with pytest.raises(ProtocolError, match="leaves no non-mated"):
        choose_watchlist(labelled, 3)
    one_image = Labelled(labelled.embeddings[:5], labelled.people[:5], labelled.images[:5])
    with pytest.raises(ProtocolError, match="two or more usable images"):
        choose_watchlist(one_image, 3)


# --- `lfr models evaluate` on the sample people ------------------------------------------------

# Each sample person's portrait (enrolled) and three variants: 28 images, a few seconds.
KEPT = ("scale-0.6", "blur-1.5", "jpeg-40")
THRESHOLDS = (0.3, 0.45, 0.5)


@pytest.fixture(scope="module")
def sample_faces(
    tmp_path_factory: pytest.TempPathFactory,
    sface_engine: InsightFaceEngine,
) -> Path:
    folder = tmp_path_factory.mktemp("faces")
    variants = [(name, make) for name, make in VARIANTS if name in KEPT]
    images = {
        who: [
            ("enrol", image),
            *((name, np.ascontiguousarray(make(image))) for name, make in variants),
        ]
        for who, image in sample_identities(sface_engine).items()
    }
    write_face_folder(images, folder)
    (folder.parent / "groups.csv").write_text(
        "person,source_photo\nastronaut,portrait\n"
        + "".join(f"t1-{i},group_photo\n" for i in range(6))
    )
    return folder


@pytest.fixture(scope="module")
def lfr_env(
    tmp_path_factory: pytest.TempPathFactory,
    sface_model_dir: Path,
) -> Iterator[Settings]:
    """One data dir (and so one ledger key) for the module's CLI runs, as on one machine."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LFR_DATA_DIR", str(tmp_path_factory.mktemp("var")))
        patch.setenv("LFR_MODEL_DIR", str(sface_model_dir))
        patch.delenv("LFR_DATABASE_URL", raising=False)
        patch.delenv("LFR_POLICY_PATH", raising=False)
        yield Settings.from_env()


@pytest.fixture(scope="module")
def report_path(
    sample_faces: Path, lfr_env: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The report of `lfr models evaluate` on the sample faces, made once."""
    out = tmp_path_factory.mktemp("report") / "report.json"
    thresholds = [str(t) for t in THRESHOLDS]
    groups = str(sample_faces.parent / "groups.csv")
    argv = ["models", "evaluate", "--faces", str(sample_faces), "--groups", groups]
    assert main([*argv, "--thresholds", *thresholds, "--out", str(out)]) == 0
    return out


def test_the_report_counts_every_pair_and_probe_with_exact_intervals(
    report_path: Path,
    sample_faces: Path,
    sface_engine: InsightFaceEngine,
) -> None:
    report = json.loads(report_path.read_text())
    assert report["model_id"] == "sface-2021dec" and report["pack"]["name"] == "sface"
    assert len(report["pack"]["files"]) == 2
    counts = report["counts"]
    # 7 people x 4 images: 7 x C(4,2) = 42 genuine pairs of C(28,2) = 378. A watchlist of 3
    # (half of 7): 3 x 3 mated probes; the 4 people left off give 16 non-mated probes.
    assert counts == {
        "people": 7,
        "people_evaluated": 7,
        "images": 28,
        "images_without_face": 0,
        "genuine_pairs": 42,
        "impostor_pairs": 336,
        "watchlist_people": 3,
        "mated_probes": 9,
        "non_enrolled_people": 4,
        "non_mated_probes": 16,
    }
    # The same images embedded here, pairs counted by brute force: the report agrees.
    people, vectors = [], []
    for person in sorted(p for p in sample_faces.iterdir() if p.is_dir()):
        for path in sorted(person.iterdir()):
            vector = central_embedding(sface_engine, cv2.imread(str(path)))
            assert vector is not None
            people.append(person.name)
            vectors.append(vector)
    pairs = [
        (float(vectors[i] @ vectors[j]), people[i] == people[j])
        for i, j in itertools.combinations(range(len(vectors)), 2)
    ]
    for row in report["thresholds"]:
        t = row["threshold"]
        assert row["fmr"]["count"] == sum(s >= t for s, same in pairs if not same)
        assert row["fnmr"]["count"] == sum(s < t for s, same in pairs if same)
        for metric in ("fmr", "fnmr", "tpir", "fpir", "fnir"):
            cell = row[metric]
            low, high = clopper_pearson(cell["count"], cell["trials"])
            assert cell["ci95"] == [round(low, 6), round(high, 6)]
    # At 0.3 some impostor pair matches on these faces; at the default 0.5 none does.
    assert [row["fmr"]["count"] > 0 for row in report["thresholds"]] == [True, False, False]
    groups = {(g["attribute"], g["group"]): g for g in report["groups"]}
    portrait = groups[("source_photo", "portrait")]
    assert (portrait["people"], portrait["images"]) == (1, 4)
    assert portrait["thresholds"][0]["fnmr"]["trials"] == 6
    assert portrait["thresholds"][0]["fmr"]["trials"] == 0  # one person: no impostor pair
    # The statement says what seven people cannot show, and names nobody.
    cannot = " ".join(report["statement"]["cannot_show"])
    assert "neither a demographic differential nor its absence" in cannot
    assert "t1-" not in report_path.read_text() and "astronaut" not in report_path.read_text()


def _verify(path: Path, *extra: str) -> int:
    return main(["models", "evaluate", "--verify", str(path), *extra])


def test_the_signature_verifies_and_fails_after_any_byte_changes(
    report_path: Path, tmp_path: Path
) -> None:
    assert _verify(report_path) == 0
    data = report_path.read_bytes()
    # A figure changed: the signature no longer covers it.
    at = data.index(b'"count": ') + len(b'"count": ')
    digit = data[at : at + 1]
    forged = tmp_path / "forged.json"
    forged.write_bytes(data[:at] + (b"7" if digit != b"7" else b"8") + data[at + 1 :])
    assert _verify(forged) == 1
    # Only whitespace changed: the same JSON, but not the file that was signed and registered.
    spaced = tmp_path / "spaced.json"
    spaced.write_bytes(data.replace(b"\n", b"\r\n", 1))
    assert _verify(spaced) == 1
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(data[:-10])
    assert _verify(truncated) == 1
    # Another key: the report is not the ledger's.
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert _verify(report_path, "--public-key", str(other)) == 1


def test_a_recorded_report_is_the_evidence_a_threshold_change_cites(
    report_path: Path, lfr_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = ["models", "record-evaluation", "--reference", "EVAL-1", "--review-by", "2030-01-01"]
    # A report altered after signing (here, the model it names) is never registered.
    forged = tmp_path / "forged.json"
    forged.write_bytes(report_path.read_bytes().replace(b"sface-2021dec", b"buffalo_l", 1))
    assert main([*record[:2], str(forged), *record[2:]]) == 2
    assert main([*record[:2], str(report_path), *record[2:], "--approved-on", "2025-01-02"]) == 0
    capsys.readouterr()
    # The ledger's own clock: the register answers "current now", and the CLI registered now.
    ledger = build_ledger(lfr_env)
    try:
        deployment_id = proposed(ledger)
        ledger.change_threshold(AO, deployment_id, 0.55, "fewer false alerts", "EVAL-1")
        document = ledger.registered_document("model_evaluation", "EVAL-1")
        assert document is not None and document.latest is not None
        assert document.latest.model_id == "sface-2021dec"
        assert document.latest.digest == hashlib.sha256(report_path.read_bytes()).hexdigest()
        assert ledger.deployment(deployment_id).threshold_evidence == {
            "kind": "model_evaluation",
            "reference": "EVAL-1",
            "version": "1",
            "digest": document.latest.digest,
        }
    finally:
        ledger.close()
        close_vault = getattr(ledger.vault, "close", None)
        if close_vault is not None:
            close_vault()


# --- the rule: a threshold change cites a current evaluation of the deployment's model ---------


def test_a_threshold_change_must_cite_a_current_evaluation_of_the_model(
    ledger: CaseLedger,
) -> None:
    deployment_id = proposed(ledger)
    change = functools.partial(ledger.change_threshold, AO, deployment_id, 0.55, "fewer alerts")
    with refused(ledger, PolicyViolation, "cite a current model evaluation of 'sface-2021dec'"):
        change()
    with refused(ledger, PolicyViolation, "not in the governance register"):
        change("EVAL-NOWHERE")
    # Another model's evaluation: thresholds and their evidence never transfer.
    buffalo = register_evaluation(ledger, model_id="buffalo_l", reference="EVAL-BUFFALO")
    with refused(ledger, PolicyViolation, "evaluates model 'buffalo_l'"):
        change(buffalo)
    # Past its review date on the ledger's day (2025-06-02).
    ledger.register_document(
        ADMIN,
        kind="model_evaluation",
        reference="EVAL-OLD",
        version="1",
        title="Evaluation of sface-2021dec, 2024",
        approved_on=date(2024, 1, 8),
        review_by=date(2025, 1, 8),
        model_id=MODEL,
        digest="1" * 64,
    )
    with refused(ledger, PolicyViolation, "due for review"):
        change("EVAL-OLD")
    withdrawn = register_evaluation(ledger, reference="EVAL-WITHDRAWN")
    ledger.withdraw_document(
        ADMIN,
        GovernanceDocument.id_for("model_evaluation", withdrawn),
        reason="the data set was found mislabelled",
    )
    with refused(ledger, PolicyViolation, "withdrawn"):
        change(withdrawn)
    with pytest.raises(PolicyViolation) as refusal:
        change()
    assert refusal.value.field == "evaluation_ref"  # problem details name the field

    change(register_evaluation(ledger))
    deployment = ledger.deployment(deployment_id)
    assert deployment.threshold == 0.55
    assert deployment.threshold_evidence == {
        "kind": "model_evaluation",
        "reference": EVALUATION_REF,
        "version": "1.0",
        "digest": "0" * 64,
    }


def test_a_policy_may_leave_the_citation_optional(ledger: CaseLedger) -> None:
    version = ledger.policy.version
    text = ledger.policy.text.replace(
        "threshold_change_requires_evaluation = true",
        "threshold_change_requires_evaluation = false",
    ).replace(f'version = "{version}"', f'version = "{version}-optional-evaluation"')
    ledger.adopt_policy(ADMIN, Policy.parse(text))
    assert not ledger.policy.threshold_change_requires_evaluation
    deployment_id = proposed(ledger)
    ledger.change_threshold(AO, deployment_id, 0.55, "fewer false alerts")
    assert ledger.deployment(deployment_id).threshold_evidence is None
    # Cited anyway, it must still be of the deployment's model.
    buffalo = register_evaluation(ledger, model_id="buffalo_l", reference="EVAL-BUFFALO")
    with refused(ledger, PolicyViolation, "never transfers"):
        ledger.change_threshold(AO, deployment_id, 0.6, "fewer false alerts", buffalo)


def test_over_http_the_change_cites_its_evaluation_and_oversight_sees_it(
    ledger: CaseLedger, settings: Settings
) -> None:
    deployment_id = proposed(ledger)
    with TestClient(create_app(settings, ledger=ledger)) as client:
        _http_change(Api(client, settings), deployment_id)


def _http_change(api: Api, deployment_id: UUID) -> None:
    path = f"/deployments/{deployment_id}/threshold"
    body = {"threshold": 0.55, "reason": "Two false alerts in the first hour"}
    problem = assert_problem(
        api.post(path, "authorising_officer", body, claims=AO_CLAIMS), 422, "policy-violation"
    )
    assert "evaluation_ref" in problem["detail"]
    evaluation = {
        "kind": "model_evaluation",
        "reference": "EVAL-HTTP-1",
        "version": "2",
        "title": "Evaluation of sface-2021dec on the force's faces",
        "approved_on": "2025-01-06",
        "review_by": DOCUMENTS_REVIEW_BY.isoformat(),
        "model_id": MODEL,
        "digest": "ab" * 32,
    }
    registered = api.post("/governance/documents", "admin", evaluation)
    assert registered.status_code in (200, 201), registered.text
    done = api.post(
        path, "authorising_officer", {**body, "evaluation_ref": "EVAL-HTTP-1"}, claims=AO_CLAIMS
    )
    assert done.status_code == 200, done.text
    shown = api.get(f"/deployments/{deployment_id}", "oversight").json()
    assert shown["threshold"] == 0.55
    assert shown["threshold_evidence"] == {
        "reference": "EVAL-HTTP-1",
        "version": "2",
        "digest": "ab" * 32,
    }
    read = api.get(
        f"/deployments/{deployment_id}/history",
        "oversight",
        headers={"X-Purpose": "review of the threshold's evidence"},
    )
    assert read.status_code == 200, read.text
    history = read.json()
    changed = [e for e in history["events"] if e["topic"] == DeploymentTopic.THRESHOLD_CHANGED]
    assert [e["data"]["evaluation_ref"] for e in changed] == ["EVAL-HTTP-1"]
    assert changed[0]["data"]["evaluation_digest"] == "ab" * 32
