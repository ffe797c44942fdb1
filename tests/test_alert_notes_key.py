"""Issue 28: an alert's notes key (adjudication reasons, outcome notes, holds) is a key of its
own, drawn from the vault's stock when the alert is raised and named by its Raised event, so
neither the raise nor the adjudication writes to the vault for it. Erasing the alert's images
still destroys it; alerts raised by an earlier release, whose notes key is derived from the
alert's id, still load, decrypt, take new notes and are erased the same way."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from uuid import UUID, uuid5

import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import OPERATOR, train
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import ERASED, Decision
from lfr_ledger.eventlog.key_audit import missing_keys
from tests.conftest import Clock
from tests.test_invariants import live, send_alert

RELEASE = Path(__file__).parent / "fixtures" / "release-r2"


def _reason(ledger: CaseLedger, alert_id: UUID) -> str:
    """The alert's first adjudication reason as its reader sees it."""
    for event in ledger.repository.event_store.get(alert_id):
        if type(event).__name__ == "Adjudicated":
            return ledger.reveal_text(
                ledger.notes_key_id(alert_id),
                "adjudication_reason",
                event.reason,  # type: ignore[attr-defined]
            )
    raise AssertionError("not adjudicated")


def test_the_raised_event_names_a_notes_key_already_in_the_vault(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, entries = live(ledger, clock)
    alert = send_alert(ledger, deployment, entries[0], clock)
    raised = next(iter(ledger.repository.event_store.get(alert)))
    notes = raised.notes_key  # type: ignore[attr-defined]
    assert isinstance(notes, UUID) and notes not in (alert, uuid5(alert, "notes"))
    assert ledger.notes_key_id(alert) == notes
    assert ledger.vault.has_key(notes)


def test_adjudicating_a_new_alert_writes_nothing_to_the_vault(
    ledger: CaseLedger, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment, entries = live(ledger, clock)
    alert = send_alert(ledger, deployment, entries[0], clock)

    def no_write(*args: object) -> None:
        raise AssertionError("the adjudication wrote a key")

    for name in ("ensure_key", "create_key"):
        monkeypatch.setattr(ledger.vault, name, no_write)
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "likeness confirmed on screen")
    assert _reason(ledger, alert) == "likeness confirmed on screen"


def test_erasing_the_images_destroys_the_recorded_notes_key(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, entries = live(ledger, clock)
    alert = send_alert(ledger, deployment, entries[0], clock, face_crop=b"\xff\xd8crop")
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "likeness confirmed on screen")
    notes = ledger.notes_key_id(alert)
    ledger.erase_alert_images(alert, rule="test")
    assert not ledger.vault.has_key(notes) and not ledger.vault.has_key(alert)
    assert _reason(ledger, alert) == ERASED
    assert missing_keys(ledger) == []


def test_a_notes_key_that_sealed_nothing_outlives_the_erasure_for_a_late_decision(
    ledger: CaseLedger, clock: Clock
) -> None:
    """No tombstone names it, so a restore does not destroy the late reason again."""
    deployment, entries = live(ledger, clock)
    alert = send_alert(ledger, deployment, entries[0], clock, face_crop=b"\xff\xd8crop")
    notes = ledger.notes_key_id(alert)
    assert ledger.erased_alert_keys(alert) == [alert]
    ledger.erase_alert_images(alert, rule="test")
    assert ledger.vault.has_key(notes) and not ledger.vault.has_key(alert)
    ledger.adjudicate(OPERATOR, alert, Decision.NO_MATCH, "a different person", ("subject",))
    assert _reason(ledger, alert) == "a different person"
    assert missing_keys(ledger) == []
    # Once it seals something, erasing (or the retention's repair of an erasure) destroys it.
    assert ledger.erased_alert_keys(alert) == [alert, notes]


def test_a_refused_raise_gives_its_notes_key_back(ledger: CaseLedger, clock: Clock) -> None:
    deployment, entries = live(ledger, clock)
    drawn: list[UUID] = []
    fresh_key = ledger.vault.fresh_key

    class Spy:
        def __enter__(self) -> UUID:
            self.manager = fresh_key()
            drawn.append(self.manager.__enter__())
            return drawn[-1]

        def __exit__(self, *exc: object) -> bool | None:
            return self.manager.__exit__(*exc)  # type: ignore[arg-type]

    ledger.vault.fresh_key = Spy  # type: ignore[method-assign,assignment]
    with pytest.raises(Exception, match="below the threshold"):
        send_alert(ledger, deployment, entries[0], clock, similarity=0.01)
    assert len(drawn) == 1 and not ledger.vault.has_key(drawn[0])


@pytest.fixture
def release(tmp_path: Path) -> Settings:
    for name in ("events.sqlite", "keys.sqlite"):
        with gzip.open(RELEASE / f"{name}.gz") as packed, (tmp_path / name).open("wb") as out:
            shutil.copyfileobj(packed, out)
    (tmp_path / "keys.sqlite").chmod(0o600)
    return Settings(data_dir=tmp_path)


def test_alerts_of_an_earlier_release_keep_their_derived_notes_key(release: Settings) -> None:
    ledger = build_ledger(release)
    try:
        adjudicated = [
            UUID(str(n.originator_id))
            for n in ledger.recorder.select_notifications(1, 10_000)
            if n.topic == AlertTopic.ADJUDICATED
        ]
        old = next(
            a
            for a in adjudicated
            if ledger.alert(a).images_erased_at is None and ledger.alert(a).legal_hold is None
        )
        raised = next(iter(ledger.repository.event_store.get(old)))
        assert not hasattr(raised, "notes_key")  # written before the field existed
        derived = uuid5(old, "notes")
        assert ledger.alert(old).notes_key is None
        assert ledger.notes_key_id(old) == derived and ledger.vault.has_key(derived)
        assert _reason(ledger, old) not in ("", ERASED)
        # New text on an old alert goes under the same derived key, and is erased with it.
        train(ledger, OPERATOR.id, "adjudicate")
        if ledger.alert(old).decision == Decision.NO_MATCH:
            ledger.correct_adjudication(OPERATOR, old, Decision.MATCH, "looked again")
        else:
            ledger.correct_adjudication(
                OPERATOR, old, Decision.NO_MATCH, "looked again", ("subject",)
            )
        assert ledger.vault.has_key(derived)
        assert missing_keys(ledger) == []
        ledger.erase_alert_images(old, rule="test")
        assert not ledger.vault.has_key(derived)
        assert _reason(ledger, old) == ERASED
        assert missing_keys(ledger) == []
    finally:
        ledger.close()
