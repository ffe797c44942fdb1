"""A subject reference: the police identifier (a PNC number, a custody or case reference) a
watchlist entry is enrolled under, and subject access looks a person up by.

One rule, here, for every way a reference enters the domain (enrolment over HTTP or from
`lfr watchlist import`, subject access over HTTP or the CLI) and so for the subject digest: the
reference is trimmed and brought to NFKC (full-width and other compatibility forms become the
plain letters they stand for), and may then hold only

- Latin letters: A-Z and a-z, alone or with diacritics (a letter whose canonical decomposition
  is an ASCII letter and combining marks, such as é);
- the digits 0-9;
- the separators space, hyphen-minus, solidus and full stop, the space only as U+0020 itself.

Anything else is refused, naming the code point and its position, never the reference (it is
personal data): a zero-width space, soft hyphen, combining grapheme joiner or directional mark
would make an invisible second spelling of one person, a no-break space a second spelling that
looks the same, and a Cyrillic or Greek letter (or a Latin letter without an ASCII base, such as
the dotless ı) a look-alike. Refusing is simpler to state and to audit than a confusables
skeleton (Unicode TR 39), and an identifier never needs those characters (docs/decisions.md).
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass

from lfr_ledger.domain.errors import InvalidInput
from lfr_ledger.domain.sealing import PersonalDataVault

FIELD = "subject_ref"
SEPARATORS = frozenset(" -/.")
_PLAIN = frozenset(string.ascii_letters + string.digits) | SEPARATORS
_WHAT_IS_ALLOWED = (
    "a subject reference is a police identifier: Latin letters (accents allowed), digits 0-9, "
    "spaces, and - / . only; retype it without that character"
)


def _is_latin_letter(char: str) -> bool:
    decomposed = unicodedata.normalize("NFD", char)
    return decomposed[0] in string.ascii_letters and all(
        unicodedata.category(mark) == "Mn" for mark in decomposed[1:]
    )


def _refusal(char: str, position: int) -> InvalidInput:
    name = unicodedata.name(char, "an unnamed character")
    return InvalidInput(
        f"subject_ref holds U+{ord(char):04X} {name} at position {position}: {_WHAT_IS_ALLOWED}",
        field=FIELD,
    )


@dataclass(frozen=True)
class SubjectRef:
    """A subject reference that passed the rule. `text` is its NFKC form, trimmed: what is
    sealed in an entry and pseudonymised; `typed` is the reference as given, trimmed, which
    subject access also looks up by (releases before normalisation hashed it as typed)."""

    text: str
    typed: str

    @classmethod
    def parse(cls, typed: str) -> SubjectRef:
        trimmed = typed.strip()
        if not trimmed:
            raise InvalidInput(
                "subject_ref is empty: an enrolment or a subject access request needs the "
                "subject's reference",
                field=FIELD,
            )
        # Checked before NFKC, which would turn a no-break or other space into a plain one.
        for position, char in enumerate(trimmed, start=1):
            if char.isspace() and char != " ":
                raise _refusal(char, position)
        text = unicodedata.normalize("NFKC", trimmed)
        for position, char in enumerate(text, start=1):
            if char not in _PLAIN and not _is_latin_letter(char):
                raise _refusal(char, position)
        return cls(text=text, typed=trimmed)

    def digest(self, vault: PersonalDataVault) -> str:
        """The subject's pseudonym: what an entry records and the one-entry rule compares."""
        return vault.subject_digest(self.text)

    def digests(self, vault: PersonalDataVault) -> set[str]:
        """Every pseudonym a record of this subject may carry, earlier releases' included."""
        return vault.subject_digests(self.typed)
