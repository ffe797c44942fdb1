"""What `lfr demo` prints about the seed for a reader of the press release: the release's
figures beside the ledger's (the operation, the 2025 period report, the 2025 publication
records), what the seed invented, and the equality table as analysts see it. Each reads the
JSON the HTTP API returns, so the demo shows what any client would be given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lfr_ledger.api.demo.seed_story import (
    FORCE,
    FORCE_CODE,
    RELEASED_ALERTS,
    RELEASED_ARRESTS,
    RELEASED_COMPLIANCE_CHECKS,
    RELEASED_DEPLOYMENTS,
    SEED_DEPLOYMENTS,
    invented,
)

RELEASED = (RELEASED_DEPLOYMENTS, RELEASED_ALERTS, RELEASED_ARRESTS, RELEASED_COMPLIANCE_CHECKS)
MEASURES = ("deployments", "positive alerts", "arrests", "compliance checks")


def _mark(ok: bool) -> str:
    return "as released" if ok else "DIFFERS from the release"


def of_force(records: Sequence[Mapping[str, Any]], forces: set[str]) -> list[Mapping[str, Any]]:
    """The publication records of deployments the force controlled."""
    return [r for r in records if r["controlling_force"] in forces]


def release_columns(
    summary: Mapping[str, Any],
    period: Mapping[str, Any],
    publication: Sequence[Mapping[str, Any]],
) -> dict[str, tuple[int, int, int, int]]:
    """(deployments, alerts, arrests, compliance checks) as the release states them and as
    each reading of the ledger gives them."""
    totals = summary["totals"]
    return {
        "release": RELEASED,
        "operation": (
            summary["deployment_count"],
            totals["alerts"],
            totals["arrests"],
            totals["compliance_checks"],
        ),
        "period 2025": (
            period["deployments"],
            period["alerts"],
            period["arrests"],
            period["compliance_checks"],
        ),
        "publication 2025": (
            len(publication),
            sum(r["alerts"] for r in publication),
            sum(r["arrests"] for r in publication),
            sum(r["compliance_checks"] for r in publication),
        ),
    }


def press_release_check(
    summary: Mapping[str, Any],
    period: Mapping[str, Any],
    publication: Sequence[Mapping[str, Any]],
    *,
    forces: set[str] | None = None,
) -> str:
    """The release's own figures beside the ledger's, for the operation and for the whole of
    2025 (`GET /statistics/period?year=2025`, `GET /publication/deployments?year=2025`, the
    force's records), and the release's other facts checked one by one."""
    ours = of_force(publication, forces or {FORCE, FORCE_CODE})
    columns = release_columns(summary, period, ours)
    equal = all(values == RELEASED for values in columns.values())
    lines = [
        f"\n== The press release beside the ledger: {FORCE}, 2025 ==",
        "  " + " " * 18 + "".join(f"  {name}" for name in columns),
    ]
    for i, measure in enumerate(MEASURES):
        lines.append(
            f"  {measure:<18}"
            + "".join(f"  {values[i]:>{len(name)}}" for name, values in columns.items())
        )
    lines.append(
        "  every figure, for the operation and for the force's whole 2025: "
        + ("equal to the release's" if equal else "NOT equal to the release's")
    )
    places = [(d["starts_at"][:10], d["location"]["town"]) for d in summary["by_deployment"]]
    released = [(s.day.isoformat(), s.town) for s in SEED_DEPLOYMENTS]
    mutual_aid = [r for r in ours if r["mutual_aid"]]
    lines += [
        "  days and towns     "
        + "; ".join(f"{day} {town}" for day, town in places)
        + f"  ({_mark(places == released)})",
        f"  mutual aid         {len(mutual_aid)} of {len(ours)} deployments on another "
        f"force's equipment, the lender recorded as unknown "
        f"({_mark(len(mutual_aid) == len(released) == len(ours))}: the release names no "
        "lender, and the force plans its own LFR technology in 2026)",
        f"  campaign           '{summary['name']}' ("
        + _mark("16 Days of Activism" in summary["name"])
        + ")",
        f"  operation          {summary['status']}"
        + (" after its deployments' reviews" if summary["status"] == "closed" else ""),
    ]
    return "\n".join(lines)


def invented_text() -> str:
    """Every value the seed made up, labelled as such."""
    entries = invented()
    width = max(len(what) for what, _ in entries) + 2
    return "\n".join(
        [
            "\n== What the seed invents (ILLUSTRATIVE: the press release gives none of it) ==",
            *(f"  {what:<{width}}{value}" for what, value in entries),
        ]
    )


def equality_text(report: Mapping[str, Any]) -> str:
    """The analyst's equality table (`lfr equality`): cells under the policy's minimum are
    withheld, so four people described by the release show as withheld cells, not as people."""
    minimum = report["minimum_cell_size"]

    def show(value: int | None) -> str:
        return f"<{minimum}" if value is None else str(value)

    lines = [
        "\n== Equality monitoring, as an analyst reads it (alerts captured in 2025) ==",
        "The release describes four of the people arrested: a man and three women. Their "
        "engagement officers recorded them as perceived male and perceived female; nobody "
        "else is described, so nothing else is recorded.",
        f"Cells under the policy's minimum of {minimum} are withheld (shown <{minimum}):",
    ]
    for table in report["tables"]:
        cells = "  ".join(f"{g['value']} {show(g['alerts'])}" for g in table["groups"])
        lines.append(f"  {table['field']:<20}{cells}")
    return "\n".join(lines)
