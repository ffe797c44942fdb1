"""A watchlist import run again: a row already enrolled exactly as it stands is left as it is
(the import can be re-run after a refusal is fixed, or after a lost terminal), while a row whose
subject is enrolled with other details is refused, naming the fields that differ (never their
values: the terminal may be read over a shoulder).

The comparison opens the entry's sealed fields and image to compare them with what the watchlist
manager submits, so it reads them through the personal-data layer like any other read: two
consultations (the entry and its image), "re-running a watchlist import", for each row whose
subject is enrolled already. Nothing is shown but the names of the fields that differ.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from lfr_ledger.api.personal_data import PersonalData
    from lfr_ledger.domain.application import CaseLedger, Enrolment

PURPOSE = "re-running a watchlist import: comparing a row with the entry enrolled from it"


def already_enrolled(
    ledger: CaseLedger,
    reads: PersonalData,
    deployment_id: UUID,
    enrolment: Enrolment,
    image: bytes,
) -> UUID | None:
    """The active entry that holds exactly this row, or None when the subject is not enrolled
    (or only in a withdrawn entry); `ValueError` when the subject's entry holds other details."""
    from lfr_ledger.domain.subject_ref import SubjectRef

    digest = SubjectRef.parse(enrolment.subject_ref).digest(ledger.vault)
    entry_id = ledger.deployment(deployment_id).entries_by_subject.get(digest)
    if entry_id is None or not ledger.watchlist_entry(entry_id).is_active:
        return None
    differ = _differences(reads, entry_id, enrolment, image)
    if differ:
        raise ValueError(
            f"this subject is already enrolled as entry {entry_id} with a different "
            f"{', '.join(differ)}; withdraw that entry first to enrol them again with these "
            "details"
        )
    return entry_id


def _differences(
    reads: PersonalData, entry_id: UUID, enrolment: Enrolment, image: bytes
) -> list[str]:
    read = reads.entry(entry_id, purpose=PURPOSE)
    entry, revealed = read.entry, read.revealed
    stored_image = reads.entry_image(entry_id, purpose=PURPOSE) if entry.sealed_image else b""
    justification = enrolment.under_18_justification.strip() if enrolment.under_18 else ""
    pairs = {
        "name": (revealed.name, enrolment.name.strip()),
        "category": (entry.category, enrolment.category),
        "legal_basis": (read.legal_basis or "", enrolment.legal_basis.strip()),
        "rationale": (revealed.rationale, enrolment.rationale.strip()),
        "offence": (read.offence or "", enrolment.offence.strip()),
        "image_source": (read.image_source or "", enrolment.image_source.strip()),
        "image_taken_on": (_day(entry.image_taken_on), _day(enrolment.image_taken_on)),
        "under_18": (entry.under_18, enrolment.under_18),
        "under_18_justification": (read.under_18_justification or "", justification),
        "description": (read.description or "", enrolment.description.strip()),
        "image": (hashlib.sha256(stored_image).digest(), hashlib.sha256(image).digest()),
    }
    return [field for field, (stored, given) in pairs.items() if stored != given]


def _day(value: object) -> str | None:
    """A date as the event store may give it back: a date, or its ISO text."""
    if value is None:
        return None
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else str(value)
