"""What a deployment cites of the register of governance documents (`domain/governance.py`):
the documents the policy requires at its proposal and at its authority, each current at that
moment, and the exact versions it records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lfr_ledger.domain.errors import PolicyViolation
from lfr_ledger.domain.governance import LABELS, DocumentKind, GovernanceDocument


class DocumentRegister(Protocol):
    """What the citation rule reads of the register (the ledger)."""

    def registered_document(self, kind: str, reference: str) -> GovernanceDocument | None: ...

    def documents(self, kind: str | None = None) -> list[GovernanceDocument]: ...


@dataclass(frozen=True)
class Cited:
    """A document a command cites by reference, and the request field that names it."""

    reference: str
    field: str


def cite_current(
    register: DocumentRegister,
    *,
    required: Sequence[str],
    named: Mapping[str, Cited],
    model_id: str,
    at: datetime,
    stage: str,
    policy_version: str,
) -> list[dict[str, str]]:
    """The current version of each document `required` at `stage`, as the deployment records
    it; refused naming the first document missing, withdrawn, expired or due for review.
    A kind the command `named` must be that very document; a model evaluation must be of the
    deployment's model; any other kind needs one current document (all current are cited)."""
    cited: list[dict[str, str]] = []
    for kind in required:
        rule = f"policy {policy_version} needs {_current(kind)} at {stage}"
        names = named.get(kind)
        if names is not None:
            document = register.registered_document(kind, names.reference)
            if document is None:
                raise PolicyViolation(
                    f"{LABELS[kind]} {names.reference!r} is not in the governance register; "
                    f"{rule}: register it first (POST /governance/documents)",
                    field=names.field,
                )
            why = document.lapsed(at)
            if why is not None:
                raise PolicyViolation(
                    f"{why}; {rule}: register its reviewed version first", field=names.field
                )
            version = document.current_at(at)
            assert version is not None  # `lapsed` said it is current
            cited.append(version.citation())
            continue
        documents = register.documents(kind)
        if kind == DocumentKind.MODEL_EVALUATION:
            documents = [d for d in documents if d.evaluates(model_id)]
            rule += f" for model {model_id!r}"
        current = [v for d in documents if (v := d.current_at(at)) is not None]
        if not current:
            lapsed = [why for d in documents if (why := d.lapsed(at)) is not None]
            raise PolicyViolation(
                f"no current {LABELS[kind]} is in the governance register "
                f"({'; '.join(lapsed) if lapsed else 'none was ever registered'}); {rule}"
            )
        cited.extend(v.citation() for v in current)
    return cited


def _current(kind: str) -> str:
    """How a refusal names what it needs: "a current DPIA", "current equality evidence"."""
    label = LABELS[kind]
    if kind == DocumentKind.EQUALITY_EVIDENCE:
        return f"current {label}"
    return f"{'an' if label[0] in 'aeiou' else 'a'} current {label}"
