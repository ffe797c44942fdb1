"""`lfr watchlist import|index-sync|reconfirm`: enrol a deployment's watchlist from a CSV of
subjects and their images, bring this node's watchlist index up to date with the ledger, and
re-confirm entries close to go-live (`start_gates.py`)."""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from lfr_ledger.api.cli.output import fail, json_flag, note, print_json, progress
from lfr_ledger.api.cli.start_gates import add_reconfirm_command

if TYPE_CHECKING:
    from lfr_ledger.domain.application import CaseLedger, Enrolment
    from lfr_ledger.matching.engines.faces import FaceEngine

REQUIRED_COLUMNS = (
    "subject_ref",
    "name",
    "category",
    "legal_basis",
    "rationale",
    "offence",
    "image_source",
    "image_path",
)
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    parser = subparsers.add_parser(
        "watchlist", help="import a watchlist from CSV; sync this node's watchlist index"
    )
    actions = parser.add_subparsers(dest="watchlist_action", required=True, metavar="ACTION")

    importer = actions.add_parser(
        "import",
        help="enrol every row of a CSV into a deployment's watchlist",
        description=(
            "Columns: " + ", ".join(REQUIRED_COLUMNS) + ", and optionally image_taken_on "
            "(YYYY-MM-DD), under_18 (true/false) and under_18_justification (required when "
            "under_18 is true). image_path is relative to the CSV file. "
            "Each row is enrolled on its own: a refused row does not stop the others. Run "
            "again, a row already enrolled exactly as it stands is left unchanged (exit 0); "
            "one whose subject is enrolled with other details is refused, naming the fields "
            "that differ (exit 1)."
        ),
    )
    importer.add_argument("file", type=Path, metavar="FILE.csv")
    importer.add_argument("--deployment", type=UUID, required=True, help="deployment id")
    importer.add_argument(
        "--actor-id", required=True, help="staff number of the watchlist manager enrolling"
    )
    importer.add_argument("--actor-rank", default=None, help="the watchlist manager's rank")
    json_flag(importer)
    importer.set_defaults(handler=import_command)

    sync = actions.add_parser(
        "index-sync", help="apply new enrolments and withdrawals to this node's watchlist index"
    )
    sync.add_argument(
        "--rebuild", action="store_true", help="rebuild the index from the start of the log"
    )
    json_flag(sync)
    sync.set_defaults(handler=index_sync_command)
    add_reconfirm_command(actions)


def parse_row(row: dict[str, str]) -> Enrolment:
    """One CSV row as an enrolment; `ValueError` names the malformed column, `InvalidInput` a
    subject reference the domain's rule refuses (checked here, before the image is read)."""
    from lfr_ledger.domain.application import Enrolment
    from lfr_ledger.domain.subject_ref import SubjectRef

    taken = (row.get("image_taken_on") or "").strip()
    under_18 = (row.get("under_18") or "").strip().lower()
    if under_18 not in _TRUE | _FALSE:
        raise ValueError(f"under_18 must be true or false, not {under_18!r}")
    try:
        taken_on = date.fromisoformat(taken) if taken else None
    except ValueError:
        raise ValueError("image_taken_on must be a date as YYYY-MM-DD") from None
    text = {f.name: (row.get(f.name) or "").strip() for f in fields(Enrolment)}
    SubjectRef.parse(text["subject_ref"])
    return Enrolment(
        subject_ref=text["subject_ref"],
        name=text["name"],
        category=text["category"],
        legal_basis=text["legal_basis"],
        rationale=text["rationale"],
        offence=text["offence"],
        image_source=text["image_source"],
        image_taken_on=taken_on,
        under_18=under_18 in _TRUE,
        under_18_justification=text["under_18_justification"],
    )


@dataclass(frozen=True)
class RowOutcome:
    """One CSV row's fate, named by line number, never by subject: the terminal may be read
    over a shoulder."""

    line: int
    entry_id: UUID | None
    refused: str | None
    # Enrolled by an earlier run exactly as the row stands: left as it is.
    unchanged: bool = False


def import_rows(
    ledger: CaseLedger,
    engine: FaceEngine,
    actor_id: str,
    actor_rank: str | None,
    deployment_id: UUID,
    csv_path: Path,
) -> list[RowOutcome]:
    """Enrols each row on its own: a refused row does not stop the others."""
    from lfr_ledger.api.cli.watchlist_rerun import already_enrolled
    from lfr_ledger.api.personal_data import PersonalData
    from lfr_ledger.domain.actors import Actor, Role
    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.matching.engines.enrolment import enrol_from_image

    actor = Actor(actor_id, Role.WATCHLIST_MANAGER, rank=actor_rank)
    reads = PersonalData(ledger, actor)
    outcomes: list[RowOutcome] = []
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        rows = sum(1 for _ in handle) - 1
        handle.seek(0)
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{csv_path} lacks the columns: {', '.join(missing)}")
        for row in progress(reader, total=rows, what="enrolling"):
            line = reader.line_num
            try:
                enrolment = parse_row(row)
                image_path = (row.get("image_path") or "").strip()
                if not image_path:
                    raise ValueError("image_path is empty: the built-in matcher needs an image")
                try:
                    image = (csv_path.parent / image_path).read_bytes()
                except OSError as error:
                    raise ValueError(
                        f"the image file cannot be read ({error.strerror or error})"
                    ) from None
                existing = already_enrolled(ledger, reads, deployment_id, enrolment, image)
                if existing is not None:
                    outcomes.append(RowOutcome(line, existing, None, unchanged=True))
                    continue
                entry_id = enrol_from_image(ledger, engine, actor, deployment_id, enrolment, image)
            except (DomainError, ValueError) as error:
                outcomes.append(RowOutcome(line, None, str(error)))
                continue
            outcomes.append(RowOutcome(line, entry_id, None))
    return outcomes


def import_command(args: argparse.Namespace) -> int:
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.api.enrolment import engine_for
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.domain.errors import NotFound
    from lfr_ledger.matching.engines.model_packs import ModelPackError

    settings = Settings.from_env()
    ledger = build_ledger(settings)
    try:
        try:
            model_id = ledger.deployment(args.deployment).plan.model_id
            engine = engine_for(settings.model_dir, model_id)
        except (NotFound, ModelPackError) as error:
            return fail("watchlist import", str(error))
        try:
            outcomes = import_rows(
                ledger, engine, args.actor_id, args.actor_rank, args.deployment, args.file
            )
        except (OSError, ValueError, UnicodeDecodeError) as error:
            return fail("watchlist import", str(error))
        refused = sum(1 for o in outcomes if o.refused)
        unchanged = sum(1 for o in outcomes if o.unchanged)
        if args.json:
            print_json({"deployment_id": args.deployment, "model_id": model_id, "rows": outcomes})
        else:
            for o in outcomes:
                print(f"line {o.line}: {_fate(o)}")
            print(
                f"{len(outcomes) - refused - unchanged} enrolled, {unchanged} already enrolled "
                f"(unchanged), {refused} refused into deployment {args.deployment} (model "
                f"{model_id}); run `lfr watchlist index-sync` on each matcher node"
            )
        return 0 if refused == 0 else 1
    finally:
        ledger.close()


def _fate(outcome: RowOutcome) -> str:
    if outcome.refused:
        return f"refused: {outcome.refused}"
    if outcome.unchanged:
        return f"already enrolled as {outcome.entry_id} (unchanged)"
    return f"enrolled {outcome.entry_id}"


def index_sync_command(args: argparse.Namespace) -> int:
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.matching.index.follower import WatchlistIndex

    settings = Settings.from_env()
    ledger = build_ledger(settings)
    try:
        with WatchlistIndex.open(settings) as index:
            applied = index.rebuild(ledger) if args.rebuild else index.sync(ledger)
            refused = index.refused()
            if args.json:
                print_json(
                    {
                        "index": index.path,
                        "rebuilt": args.rebuild,
                        "applied": applied,
                        "position": index.position,
                        "entries": index.count(),
                        "not_indexed": [{"entry_id": e, "reason": r} for e, r in refused],
                    }
                )
                return 0
            print(
                f"watchlist index {index.path}: {'rebuilt from' if args.rebuild else 'applied'} "
                f"{applied} notifications, position {index.position}; "
                f"{index.count()} entries indexed"
            )
            for entry_id, reason in refused:
                note(f"warning: entry {entry_id} is not indexed and cannot match: {reason}")
        return 0
    finally:
        ledger.close()
