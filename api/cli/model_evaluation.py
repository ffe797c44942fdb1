"""`lfr models evaluate` and `lfr models record-evaluation`: the installed pack's error rates on
a force's own labelled faces, in a report signed with the ledger's key; its check; and its entry
in the governance register as a `model_evaluation`, which a threshold change then cites.

Exit codes: 0 done (or the report verifies); 1 the report fails its check; 2 refused (bad
input, a pack that does not verify, a register that refuses the document).
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lfr_ledger.api.cli.output import fail, json_flag, note, print_json

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from lfr_ledger.config.settings import Settings


def add_parsers(actions: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    evaluate = actions.add_parser(
        "evaluate",
        help="error rates of the installed pack on labelled faces, in a signed report",
        description=(
            "Runs the pack the matcher runs over FOLDER/<person>/<image> and reports, at each "
            "threshold, FMR and FNMR over every pair of images and TPIR and FPIR for a "
            "simulated watchlist, each with its Clopper-Pearson 95% interval, by group when "
            "--groups labels the people; signed with the ledger's key. With --verify, checks "
            "a report instead."
        ),
    )
    evaluate.add_argument("--faces", type=Path, help="FOLDER/<person>/<image>, several each")
    evaluate.add_argument(
        "--groups",
        type=Path,
        help="CSV with a header person,<attribute>,... (e.g. person,sex,age_band,ethnicity)",
    )
    evaluate.add_argument(
        "--watchlist-size", type=int, default=None, help="people listed (default: half)"
    )
    evaluate.add_argument(
        "--thresholds",
        type=float,
        nargs="+",
        default=None,
        help="default: the policy's floor and default for the model, and ±0.05, ±0.10",
    )
    evaluate.add_argument("--seed", type=int, default=0, help="draws the watchlist (default 0)")
    evaluate.add_argument(
        "--enrol",
        default="enrol",
        metavar="NAME",
        help="the image (name without suffix) enrolled for each listed person; default enrol "
        "(a person without one: their first image by name)",
    )
    evaluate.add_argument("--pack", default="sface", help="model pack (default sface)")
    evaluate.add_argument("--engine", default="insightface", help="face engine entry point")
    evaluate.add_argument(
        "--out", type=Path, help="the report (default evaluation-<model>-<data set>.json)"
    )
    evaluate.add_argument("--verify", type=Path, metavar="REPORT", help="check a signed report")
    evaluate.add_argument(
        "--public-key", type=Path, help="PEM to check against (default: the ledger's own key)"
    )
    json_flag(evaluate)
    evaluate.set_defaults(handler=evaluate_command)

    record = actions.add_parser(
        "record-evaluation",
        help="register a signed evaluation report as a model_evaluation document",
        description=(
            "Checks the report's signature, then registers it in the governance register "
            "(kind model_evaluation, its model id and SHA-256), as an authorising officer or "
            "an admin. A threshold change cites it by --reference."
        ),
    )
    record.add_argument("report", type=Path, metavar="REPORT")
    record.add_argument("--reference", required=True, help="e.g. EVAL-SFACE-2026-01")
    record.add_argument("--version", default="1", help="the document's version (default 1)")
    record.add_argument("--title", default=None, help="default: 'Evaluation of <model>'")
    record.add_argument(
        "--approved-on", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default today)"
    )
    record.add_argument(
        "--review-by", type=date.fromisoformat, required=True, help="YYYY-MM-DD: its review date"
    )
    record.add_argument("--approved-by", default=None, help="the office or board that approved it")
    record.add_argument("--actor-id", default=None, help="who registers it (default cli:<login>)")
    record.add_argument(
        "--role",
        choices=["authorising_officer", "admin"],
        default="authorising_officer",
        help="the registrar's role (default authorising_officer)",
    )
    record.add_argument("--rank", default="superintendent", help="an authorising officer's rank")
    record.add_argument("--public-key", type=Path, help="PEM to check against (default: ledger's)")
    json_flag(record)
    record.set_defaults(handler=record_command)


def _public_key(path: Path | None, settings: Settings) -> Ed25519PublicKey:
    from lfr_ledger.eventlog.checkpoint import load_or_create_signing_key
    from lfr_ledger.eventlog.checkpoint_signature import load_public_key

    if path is not None:
        return load_public_key(path.read_bytes())
    return load_or_create_signing_key(settings).public_key()


def _default_thresholds(settings: Settings, model_id: str) -> list[float]:
    from lfr_ledger.domain.policy import Policy

    thresholds = Policy.load(settings.policy_path).thresholds_for(model_id)
    base = thresholds.default_threshold
    around = [base + step for step in (-0.10, -0.05, 0.0, 0.05, 0.10)]
    return sorted({round(t, 3) for t in (*around, thresholds.threshold_floor) if 0 < t <= 1})


def evaluate_command(args: argparse.Namespace) -> int:
    from lfr_ledger.config.settings import Settings

    settings = Settings.from_env()
    if args.verify is not None:
        return _verify(args, settings)
    if args.faces is None:
        return fail("models evaluate", "give --faces FOLDER (or --verify REPORT)")
    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.eventlog.checkpoint import load_or_create_signing_key
    from lfr_ledger.matching.engines.model_packs import ModelPackError, open_verified_pack
    from lfr_ledger.matching.engines.plugins import load_engine
    from lfr_ledger.matching.packs.evaluate import (
        EvaluationError,
        Pack,
        evaluate,
        read_faces,
        read_groups,
    )
    from lfr_ledger.matching.packs.evaluation_report import sign_report, write_report

    model_dir = args.model_dir or settings.model_dir
    try:
        installed = open_verified_pack(model_dir, args.pack)
        engine = load_engine(args.engine, args.pack, model_dir)
        thresholds = args.thresholds or _default_thresholds(settings, engine.model_id)
        groups, groups_digest = None, None
        if args.groups is not None:
            data = args.groups.read_bytes()
            groups = read_groups(data)
            groups_digest = hashlib.sha256(data).hexdigest()
        report = evaluate(
            engine,
            Pack(
                name=installed.name,
                engine=args.engine,
                model_id=engine.model_id,
                files=installed.sha256,
                variant=installed.variant,
            ),
            read_faces(args.faces),
            thresholds,
            watchlist_size=args.watchlist_size,
            seed=args.seed,
            enrol=args.enrol,
            groups=groups,
            groups_digest=groups_digest,
            report=note,
        )
    except (ModelPackError, EvaluationError, DomainError, OSError) as error:
        return fail("models evaluate", str(error))
    signed = sign_report(report, load_or_create_signing_key(settings))
    out = args.out or Path(
        f"evaluation-{report['model_id']}-{report['data_set']['digest'][:12]}.json"
    )
    digest = write_report(out, signed)
    if args.json:
        print_json({"report": str(out), "sha256": digest, **signed})
    else:
        print(summary(signed))
        print(f"\nreport: {out} (sha256 {digest}), signed by key {signed['signature']['key_id']}")
    return 0


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    from lfr_ledger.matching.packs.evaluation_report import check_report, report_digest

    try:
        data = args.verify.read_bytes()
        key = _public_key(args.public_key, settings)
    except (OSError, ValueError) as error:
        return fail("models evaluate --verify", str(error))
    report, problem = check_report(data, key)
    result = {
        "report": str(args.verify),
        "sha256": report_digest(data),
        "verified": not problem,
        "problem": problem or None,
        "model_id": None if report is None else report.get("model_id"),
    }
    if args.json:
        print_json(result)
    elif problem:
        print(f"{args.verify}: FAILED: {problem}")
    else:
        print(f"{args.verify}: ok, model {result['model_id']}, sha256 {result['sha256']}")
    return 1 if problem else 0


def _rate(cell: dict[str, Any]) -> str:
    if cell["rate"] is None:
        return "-"
    low, high = cell["ci95"]
    return f"{cell['count']}/{cell['trials']} [{low:.3f}, {high:.3f}]"


def summary(report: dict[str, Any]) -> str:
    """The report's key table and its statement, as a person reads them."""
    counts = report["counts"]
    lines = [
        f"model {report['model_id']} (pack {report['pack']['name']}); data set "
        f"{report['data_set']['digest'][:16]}: {counts['people_evaluated']} people, "
        f"{counts['images'] - counts['images_without_face']} images "
        f"({counts['images_without_face']} without a face)",
        f"{counts['genuine_pairs']} genuine and {counts['impostor_pairs']} impostor pairs; "
        f"watchlist of {counts['watchlist_people']}: {counts['mated_probes']} mated probes, "
        f"{counts['non_mated_probes']} non-mated probes from {counts['non_enrolled_people']} "
        "people",
        "",
        "| threshold | FMR | FNMR | TPIR | FPIR |",
        "|---|---|---|---|---|",
    ]
    for row in report["thresholds"]:
        cells = " | ".join(_rate(row[m]) for m in ("fmr", "fnmr", "tpir", "fpir"))
        lines.append(f"| {row['threshold']} | {cells} |")
    lines.append("(count/trials [95% interval])")
    for heading, key in (("Can show", "can_show"), ("Cannot show", "cannot_show")):
        lines.append(f"\n{heading}:")
        lines.extend(f"- {line}" for line in report["statement"][key])
    return "\n".join(lines)


def record_command(args: argparse.Namespace) -> int:
    from lfr_ledger.api.cli.oversight import _ledger
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.domain.actors import Actor, Role
    from lfr_ledger.domain.clock import utcnow
    from lfr_ledger.domain.errors import DomainError
    from lfr_ledger.matching.packs.evaluation_report import check_report, report_digest

    settings = Settings.from_env()
    try:
        data = args.report.read_bytes()
        key = _public_key(args.public_key, settings)
    except (OSError, ValueError) as error:
        return fail("models record-evaluation", str(error))
    report, problem = check_report(data, key)
    if problem or report is None:
        return fail("models record-evaluation", f"{args.report} does not verify: {problem}")
    role = Role(args.role)
    actor = Actor(
        id=args.actor_id or f"cli:{getpass.getuser()}",
        role=role,
        rank=args.rank if role == Role.AUTHORISING_OFFICER else None,
    )
    model_id = str(report["model_id"])
    digest = report_digest(data)
    try:
        with _ledger() as ledger:
            document_id = ledger.register_document(
                actor,
                kind="model_evaluation",
                reference=args.reference,
                version=args.version,
                title=args.title
                or f"Evaluation of {model_id} on data set {report['data_set']['digest'][:12]}",
                approved_on=args.approved_on or utcnow().date(),
                review_by=args.review_by,
                expires_on=None,
                model_id=model_id,
                digest=digest,
                approved_by=args.approved_by,
            )
    except DomainError as error:
        return fail("models record-evaluation", error.detail)
    result = {
        "id": str(document_id),
        "kind": "model_evaluation",
        "reference": args.reference,
        "version": args.version,
        "model_id": model_id,
        "digest": digest,
    }
    if args.json:
        print_json(result)
    else:
        print(
            f"model evaluation {args.reference!r} version {args.version} registered "
            f"(model {model_id}, report sha256 {digest}); a threshold change cites it as "
            f"evaluation_ref {args.reference!r}"
        )
    return 0
