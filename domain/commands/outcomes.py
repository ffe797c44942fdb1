"""Commands of what followed an alert: its outcomes (recorded, corrected, their free text
sealed under the alert's notes key) and the perceived characteristics recorded for equality
monitoring."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid5

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import Outcome
from lfr_ledger.domain.alert.aggregate import Alert
from lfr_ledger.domain.commands.training import TrainingCommands
from lfr_ledger.domain.errors import InvalidInput
from lfr_ledger.domain.sealing import is_sealed_text

# An outcome's free-text fields, each sealed under the alert's notes key with its own field
# name (the vault binds each sealing to it). `reference`: outcomes before release 4.
SEALED_OUTCOME_TEXT = {
    "note": "outcome_note",
    "reference": "outcome_reference",
    "custody_ref": "outcome_custody_ref",
    "crime_ref": "outcome_crime_ref",
}


def _with_texts(
    outcome: Outcome, text: Callable[[str], str | None], conditions: tuple[str, ...]
) -> Outcome:
    """`outcome` with each of its free-text fields replaced by `text(name)`."""
    return replace(
        outcome,
        note=text("note"),
        reference=text("reference"),
        custody_ref=text("custody_ref"),
        crime_ref=text("crime_ref"),
        conditions=conditions,
    )


class OutcomeCommands(TrainingCommands):
    def record_outcome(
        self, actor: Actor, alert_id: UUID, outcome: Outcome, occurred_at: datetime | None = None
    ) -> None:
        alert = self.alert(alert_id)
        now = self.clock()
        with self._notes_key(alert) as notes:
            outcome = self._sealed_outcome(notes, outcome)
            alert.record_outcome(
                outcome=outcome, actor=actor, occurred_at=occurred_at or now, recorded_at=now
            )
            # After the alert's own rules (a match first, then an outcome that fits the entry).
            self.policy.check_outcome_fits(alert.category, outcome.type)
            self._require_training(actor, "engage")
            self._hold_if_evidential(alert, outcome, actor, now)
            self._commit(alert)

    def _hold_if_evidential(
        self, alert: Alert, outcome: Outcome, actor: Actor, now: datetime
    ) -> None:
        """An outcome the policy names in `retention.evidential_hold_on` (an arrest) puts the
        alert's images under an evidential hold, in the same save as the outcome."""
        if alert.needs_evidential_hold(outcome, self.policy.evidential_hold_on):
            alert.place_evidential_hold(
                outcome=outcome, policy_version=self.policy.version, actor=actor, occurred_at=now
            )

    def correct_outcome(
        self, actor: Actor, alert_id: UUID, outcome_index: int, outcome: Outcome, reason: str
    ) -> None:
        """A new OutcomeCorrected event (who, when, why, the previous outcome) replaces
        outcome `outcome_index` (0-based) in every read model; the original stays in the log.
        A correction to an outcome the policy holds evidence for places that hold too."""
        alert = self.alert(alert_id)
        now = self.clock()
        actor.require(Role.OFFICER)
        self._require_training(actor, "engage")
        alert.check_correctable(reason)
        with self._notes_key(alert) as notes:
            in_range = 0 <= outcome_index < len(alert.outcomes)
            previous = alert.outcomes[outcome_index] if in_range else None
            outcome = self._sealed_outcome(notes, outcome, previous)
            alert.correct_outcome(
                outcome_index=outcome_index,
                outcome=outcome,
                reason=self._seal_text(notes, "correction_reason", reason.strip()),
                actor=actor,
                occurred_at=now,
            )
            self.policy.check_outcome_fits(alert.category, outcome.type)
            self._hold_if_evidential(alert, outcome, actor, now)
            self._commit(alert)

    def _sealed_outcome(
        self, notes: UUID, outcome: Outcome, previous: Outcome | None = None
    ) -> Outcome:
        """`outcome` with its free text sealed under the alert's notes key: the note, the
        force's references (custody record, crime report, and the one free reference of
        outcomes recorded before release 4) and each condition (the offences are the law's
        words, in clear: docs/personal-data.md). Sealed text differs at every sealing, so text
        that says what `previous` said keeps its sealing, and a correction that changes
        nothing is still seen as the same outcome."""

        def seal(field: str, text: str, before: str | None) -> str:
            if not text:
                return text
            if is_sealed_text(before) and self.reveal_text(notes, field, str(before)) == text:
                return str(before)
            return self._seal_text(notes, field, text)

        earlier: list[str | None] = [*previous.conditions] if previous is not None else []
        earlier += [None] * (len(outcome.conditions) - len(earlier))

        def sealed(name: str) -> str | None:
            text: str | None = getattr(outcome, name)
            before = getattr(previous, name) if previous is not None else None
            return None if text is None else seal(SEALED_OUTCOME_TEXT[name], text, before)

        return _with_texts(
            outcome,
            sealed,
            tuple(
                seal("outcome_condition", c, b)
                for c, b in zip(outcome.conditions, earlier, strict=False)
            ),
        )

    def reveal_outcome(self, alert_id: UUID, outcome: Outcome) -> Outcome:
        """`outcome` as its reader sees it: its note, references and conditions opened
        (`[erased]` once the alert's notes were erased)."""
        notes = self.notes_key_id(alert_id)

        def revealed(name: str) -> str | None:
            text: str | None = getattr(outcome, name)
            field = SEALED_OUTCOME_TEXT[name]
            return text if text is None else self.reveal_text(notes, field, text)

        return _with_texts(
            outcome,
            revealed,
            tuple(self.reveal_text(notes, "outcome_condition", c) for c in outcome.conditions),
        )

    @staticmethod
    def equality_key_id(alert_id: UUID) -> UUID:
        """Equality data has its own key: it outlives the alert's images, and is shredded by
        its own rule."""
        return uuid5(alert_id, "equality")

    def record_perceived_demographics(
        self, actor: Actor, alert_id: UUID, fields: dict[str, str]
    ) -> None:
        self.policy.check_perceived_demographics(fields)
        if not fields:
            raise InvalidInput("no perceived characteristics given")
        alert = self.alert(alert_id)
        key_id = self.equality_key_id(alert_id)
        # Checked before a key exists, so a refusal leaves nothing behind.
        alert.check_perceived_demographics_allowed(actor)
        payload = json.dumps(fields, sort_keys=True).encode()
        with self._new_key(key_id):
            alert.record_perceived_demographics(
                sealed_demographics=self.vault.seal(key_id, "demographics", payload),
                actor=actor,
                occurred_at=self.clock(),
            )
            self._commit(alert)

    def reveal_perceived_demographics(self, alert_id: UUID, sealed: bytes) -> dict[str, str] | None:
        plain = self.vault.unseal(self.equality_key_id(alert_id), "demographics", sealed)
        return None if plain is None else dict(json.loads(plain))
