"""The spellings of a subject reference the vault pseudonymises (`_Vault.subject_digest`,
`subject_digests`): today's normal form, and those releases before normalisation hashed."""

from __future__ import annotations

import unicodedata


def normalised_subject_ref(subject_ref: str) -> str:
    """The form a subject reference is pseudonymised in: NFKC, case-folded, NFKC again (so
    "PNC-José-77" typed as NFC, as NFD, in another case or in full-width forms is one subject),
    surrounding white space removed."""
    folded = unicodedata.normalize("NFKC", subject_ref).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def legacy_spellings(subject_ref: str) -> set[str]:
    """Spellings under which releases before normalisation may have pseudonymised the same
    subject (they hashed the reference as typed, trimmed). Such a record is found when the
    request has the same letters in any normal form, or is all upper or all lower case as the
    record was; a mixed case typed differently cannot be recovered."""
    text = subject_ref.strip()
    forms = {text, text.upper(), text.lower()}
    return {unicodedata.normalize(n, f) for f in forms for n in ("NFC", "NFD", "NFKC", "NFKD")}
