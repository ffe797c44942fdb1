"""What analysts and operators read: summaries, alert lists, score distributions, threshold
sensitivity and publication records. Built only from the views, which hold no personal data;
every result is one of the typed replies of `projections/summaries.py`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from uuid import UUID

import msgspec

from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.errors import InvalidInput
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import AlertStatus
from lfr_ledger.projections.analytics_views import BlueWalkPastsView, DeploymentOperationView
from lfr_ledger.projections.camera_health import camera_silences
from lfr_ledger.projections.db import Database
from lfr_ledger.projections.publication import publication_record, records_to_csv
from lfr_ledger.projections.runner import store_for
from lfr_ledger.projections.statistics import tally
from lfr_ledger.projections.summaries import (
    AlertRow,
    DeploymentSummary,
    OperationSummary,
    PeriodFigures,
    PublicationRecord,
    ScoreDistribution,
    ThresholdSensitivity,
)
from lfr_ledger.projections.views import AlertsView, DeploymentsView, FacesView

Dict = dict[str, Any]

_DEPLOYMENT_COLUMNS = DeploymentsView.tables[1].columns
_ALERT_COLUMNS = AlertsView.tables[0].columns
_FACE_COLUMNS = FacesView.tables[0].columns
_OPERATION_COLUMNS = DeploymentOperationView.tables[0].columns
_WALK_PAST_COLUMNS = BlueWalkPastsView.tables[0].columns


def _select(
    db: Database, columns: Sequence[str], rest: str, params: Sequence[Any] = ()
) -> list[Dict]:
    rows = db.execute(f"SELECT {', '.join(columns)} {rest}", params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _decimal(value: float) -> Decimal:
    # The shortest repr is the number the matcher sent (0.29, not 0.28999…), so bins and
    # threshold comparisons fall where a person reading the score expects.
    return Decimal(repr(float(value)))


def alert_state(alert: Dict) -> AlertStatus:
    """The alert's state from its view row, by the same rule as the `Alert` aggregate's."""
    outcomes = (
        alert["arrests"]
        + alert["compliance_complied"]
        + alert["compliance_breach"]
        + alert["other_outcomes"]
    )
    return AlertStatus.after(
        adjudicated=alert["decision"] is not None,
        engagement_recorded=alert["engaged"] is not None,
        outcomes=outcomes,
        closed=alert["closed_at"] is not None,
    )


def period_bounds(
    start: str | None = None,
    end: str | None = None,
    *,
    year: int | None = None,
    month: str | None = None,
) -> tuple[date, date]:
    """The dates (both inclusive) a report covers: `from`/`to` as YYYY-MM-DD, or a whole
    `year`, or a whole `month` (YYYY-MM). Exactly one of the three ways; InvalidInput else."""
    ways = sum(x is not None for x in (year, month)) + (start is not None or end is not None)
    if ways != 1:
        raise InvalidInput("give the period as from and to (YYYY-MM-DD), or year, or month")
    try:
        if year is not None:
            if not 2000 <= year <= 2999:
                raise ValueError(f"year {year} out of range")
            return date(year, 1, 1), date(year, 12, 31)
        if month is not None:
            if len(month) != 7 or month[4] != "-":
                raise ValueError(month)
            first = date(int(month[:4]), int(month[5:]), 1)
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return first, following - timedelta(days=1)
        if start is None or end is None:
            raise ValueError("both from and to are needed")
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        if len(start) != 10 or len(end) != 10:
            raise ValueError("dates are YYYY-MM-DD")
    except ValueError as bad:
        raise InvalidInput(
            f"invalid period ({bad}): from and to are YYYY-MM-DD, year YYYY, month YYYY-MM"
        ) from None
    if last < first:
        raise InvalidInput("`to` must not be before `from`")
    return first, last


def _ratio(numerator: float, denominator: float | None) -> float | None:
    return numerator / denominator if denominator else None


def hours_live(operation: Dict | None, now: datetime, window_end: str | None = None) -> float:
    """Hours a deployment was live: its closed live intervals, and the open one up to `now`,
    at most to the end of its authorised window (where the ledger ends it)."""
    if operation is None:
        return 0.0
    ms = int(operation["live_ms"])
    if operation["live_since"] is not None:
        since = datetime.fromisoformat(operation["live_since"])
        until = now if window_end is None else min(now, datetime.fromisoformat(window_end))
        ms += max(int((until - since).total_seconds() * 1000), 0)
    return ms / 3_600_000


def blue_figures(alerts: Iterable[Dict], walk_pasts: Iterable[Dict], entries: int) -> Dict:
    """The blue watchlist's figures (see `BlueFigures`): each blue entry's walk-pasts count as
    identified up to its alerts adjudicated match."""
    alerts = list(alerts)
    matched: dict[str, int] = defaultdict(int)
    for a in alerts:
        if a["decision"] == "match":
            matched[a["entry_id"]] += 1
    passes: dict[str, int] = defaultdict(int)
    for w in walk_pasts:
        passes[w["entry_id"]] += 1
    identified = sum(min(n, matched.get(entry, 0)) for entry, n in passes.items())
    total = sum(passes.values())
    return {
        "blue_entries": entries,
        "walk_pasts": total,
        "alerts": len(alerts),
        "true_alerts": sum(matched.values()),
        "identified_walk_pasts": identified,
        "true_positive_identification_rate": _ratio(identified, total),
    }


class StatisticsReader:
    def __init__(
        self,
        settings: Settings,
        blue_categories: Iterable[str] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`blue_categories`: the watchlist categories of consenting test subjects, whose
        alerts count in no operational figure; by default the policy file's. `clock`: the
        time a deployment still live counts its hours up to (default: now), at most to its
        window's end."""
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        if blue_categories is None:
            blue_categories = Policy.load(settings.policy_path).blue_categories
        self.blue_categories = frozenset(blue_categories)

    def is_blue(self, row: Dict) -> bool:
        return row["category"] in self.blue_categories

    # --- loading ----------------------------------------------------------------------------

    def _deployments(self, db: Database, where: str, params: Sequence[Any]) -> list[Dict]:
        return _select(
            db,
            _DEPLOYMENT_COLUMNS,
            f"FROM view_deployments WHERE {where} ORDER BY starts_at, deployment_id",
            params,
        )

    def _details(
        self, db: Database, where: str, params: Sequence[Any], *, faces_summed: bool = False
    ) -> Dict:
        """Alerts, face reports, cameras and watchlist sizes of the deployments `where` picks
        (as `_deployments` does); blue (test-subject) alerts and entries apart from the
        operational ones; each deployment's forces and time live; the blue walk-pasts.
        `faces_summed`: one face row per deployment (its total), for readers that need no
        breakdown by camera or day (a van-day reports faces 960 times)."""
        # A sub-select, not a list of ids: the database joins it in one pass, where a list of
        # every deployment's id made each row be compared with each id.
        inn = f"deployment_id IN (SELECT deployment_id FROM view_deployments WHERE {where})"
        if faces_summed:
            faces = _select(
                db,
                ("deployment_id", "faces"),
                "FROM (SELECT deployment_id, CAST(SUM(faces) AS BIGINT) AS faces "
                f"FROM view_face_counts WHERE {inn} GROUP BY deployment_id) AS summed "
                "ORDER BY deployment_id",
                params,
            )
        else:
            faces = _select(
                db,
                _FACE_COLUMNS,
                f"FROM view_face_counts WHERE {inn} ORDER BY report_id",
                params,
            )
        found: Dict = {
            "alerts": _select(
                db,
                _ALERT_COLUMNS,
                f"FROM view_alerts WHERE {inn} ORDER BY alert_id",
                params,
            ),
            "faces": faces,
            "cameras": _select(
                db,
                ("deployment_id", "camera_id", "camera_name"),
                f"FROM view_deployment_cameras WHERE {inn} ORDER BY deployment_id, camera_id",
                params,
            ),
            "sizes": _select(
                db,
                ("deployment_id", "category", "entries"),
                f"FROM (SELECT deployment_id, category, COUNT(*) AS entries "
                f"FROM view_watchlist_entries WHERE {inn} AND counted_in_size = 1 "
                f"GROUP BY deployment_id, category) AS sizes ORDER BY deployment_id, category",
                params,
            ),
            "walk_pasts": _select(
                db,
                _WALK_PAST_COLUMNS,
                f"FROM view_blue_walk_pasts WHERE {inn} ORDER BY deployment_id, version",
                params,
            ),
        }
        found["operation"] = {
            row["deployment_id"]: row
            for row in _select(
                db,
                _OPERATION_COLUMNS,
                f"FROM view_deployment_operation WHERE {inn}",
                params,
            )
        }
        # Blue alerts and entries are measured apart and never reach an operational figure.
        found["blue_alerts"] = [a for a in found["alerts"] if self.is_blue(a)]
        found["alerts"] = [a for a in found["alerts"] if not self.is_blue(a)]
        found["blue_sizes"] = [s for s in found["sizes"] if self.is_blue(s)]
        found["sizes"] = [s for s in found["sizes"] if not self.is_blue(s)]
        return found

    @staticmethod
    def _operation_fields(
        operation: Dict | None, counts: Dict, now: datetime, window_end: str | None = None
    ) -> Dict:
        """Forces, mutual aid, hours live and the per-hour rates of one deployment."""
        hours = hours_live(operation, now, window_end)
        return {
            "controlling_force": operation["controlling_force"] if operation else "",
            "equipment_owner_force": operation["equipment_owner_force"] if operation else "",
            "mutual_aid": bool(operation["mutual_aid"]) if operation else False,
            "hours_live": hours,
            "alerts_per_hour": _ratio(counts["alerts"], hours),
            "arrests_per_hour": _ratio(counts["arrests"], hours),
        }

    @staticmethod
    def _blue(details: Dict, deployment_ids: Sequence[str] | None = None) -> Dict:
        def keep(row: Dict) -> bool:
            return deployment_ids is None or row["deployment_id"] in deployment_ids

        return blue_figures(
            [a for a in details["blue_alerts"] if keep(a)],
            [w for w in details["walk_pasts"] if keep(w)],
            sum(int(s["entries"]) for s in details["blue_sizes"] if keep(s)),
        )

    # --- summaries --------------------------------------------------------------------------

    @staticmethod
    def _breakdowns(
        details: Dict, *, camera_key: Sequence[str], deployments: Sequence[str] = ()
    ) -> Dict:
        """By camera (in deployment order), by watchlist category and by day."""
        order = {d: i for i, d in enumerate(deployments)}
        alerts, faces = details["alerts"], details["faces"]
        by_camera: dict[tuple[str, ...], tuple[list[Dict], list[int]]] = {}
        for cam in details["cameras"]:
            by_camera[tuple(cam[k] for k in camera_key)] = ([], [])
        for a in alerts:
            by_camera.setdefault(tuple(a[k] for k in camera_key), ([], []))[0].append(a)
        for f in faces:
            by_camera.setdefault(tuple(f[k] for k in camera_key), ([], []))[1].append(f["faces"])
        names = {(c["deployment_id"], c["camera_id"]): c["camera_name"] for c in details["cameras"]}

        sizes: dict[str, int] = defaultdict(int)
        for s in details["sizes"]:
            sizes[s["category"]] += int(s["entries"])
        by_category: dict[str, list[Dict]] = {c: [] for c in sizes}
        for a in alerts:
            by_category.setdefault(a["category"], []).append(a)

        by_day: dict[str, tuple[list[Dict], list[int]]] = defaultdict(lambda: ([], []))
        for a in alerts:
            by_day[a["day"]][0].append(a)
        for f in faces:
            by_day[f["day"]][1].append(f["faces"])

        def camera_order(item: tuple[tuple[str, ...], Any]) -> tuple[int, tuple[str, ...]]:
            key = item[0]
            ident = dict(zip(camera_key, key, strict=True))
            return (order.get(str(ident.get("deployment_id")), 0), key)

        camera_rows = []
        for key, (cam_alerts, cam_faces) in sorted(by_camera.items(), key=camera_order):
            ident = dict(zip(camera_key, key, strict=True))
            deployment_id = ident.get("deployment_id") or (
                cam_alerts[0]["deployment_id"] if cam_alerts else None
            )
            camera_rows.append(
                tally(
                    cam_alerts,
                    cam_faces,
                    **ident,
                    camera_name=names.get((str(deployment_id), str(ident["camera_id"]))),
                )
            )
        return {
            "by_camera": camera_rows,
            "by_category": [
                tally(cat_alerts, None, category=cat, watchlist_size=sizes.get(cat, 0))
                for cat, cat_alerts in sorted(by_category.items())
            ],
            "by_day": [
                tally(day_alerts, day_faces, day=day)
                for day, (day_alerts, day_faces) in sorted(by_day.items())
            ],
        }

    @staticmethod
    def _deployment_head(d: Dict, size: int) -> Dict:
        return {
            "deployment_id": d["deployment_id"],
            "operation_id": d["operation_id"],
            "location": {
                "name": d["location_name"],
                "town": d["town"],
                "location_type": d["location_type"],
            },
            "use_case": d["purpose"],
            "status": d["status"],
            "model_id": d["model_id"],
            "policy_version": d["policy_version"],
            "starts_at": d["starts_at"],
            "ends_at": d["ends_at"],
            "authorised_at": d["authorised_at"],
            "started_at": d["started_at"],
            "ended_at": d["ended_at"],
            "threshold": float(d["threshold"]),
            "threshold_changes": int(d["threshold_changes"]),
            "watchlist_size": size,
        }

    def deployment_summary(self, deployment_id: UUID) -> DeploymentSummary | None:
        with store_for(self.settings).connection() as db, db.snapshot():
            found = self._deployments(db, "deployment_id = ?", (str(deployment_id),))
            if not found:
                return None
            d = found[0]
            details = self._details(db, "deployment_id = ?", (str(deployment_id),))
        size = sum(int(s["entries"]) for s in details["sizes"])
        totals = tally(details["alerts"], [f["faces"] for f in details["faces"]])
        summary = {
            **self._deployment_head(d, size),
            "cameras": [c["camera_id"] for c in details["cameras"]],
            "totals": totals,
            **self._breakdowns(details, camera_key=("camera_id",)),
            **self._operation_fields(
                details["operation"].get(d["deployment_id"]), totals, self.clock(), d["ends_at"]
            ),
            "blue": self._blue(details),
            "camera_silences": camera_silences(
                self.settings, deployment_id, ended_at=d["ended_at"]
            ),
        }
        return msgspec.convert(summary, DeploymentSummary)

    def operation_summary(self, operation_id: UUID) -> OperationSummary | None:
        with store_for(self.settings).connection() as db, db.snapshot():
            ops = _select(
                db,
                ("operation_id", "name", "force", "purpose", "opened_at", "closed_at"),
                "FROM view_operations WHERE operation_id = ?",
                (str(operation_id),),
            )
            if not ops:
                return None
            deployments = self._deployments(db, "operation_id = ?", (str(operation_id),))
            details = self._details(db, "operation_id = ?", (str(operation_id),))
        op = ops[0]
        sizes: dict[str, int] = defaultdict(int)
        for s in details["sizes"]:
            sizes[s["deployment_id"]] += int(s["entries"])
        alerts_of: dict[str, list[Dict]] = defaultdict(list)
        for a in details["alerts"]:
            alerts_of[a["deployment_id"]].append(a)
        faces_of: dict[str, list[int]] = defaultdict(list)
        for f in details["faces"]:
            faces_of[f["deployment_id"]].append(f["faces"])
        by_town: dict[str, list[str]] = defaultdict(list)
        for d in deployments:
            by_town[d["town"]].append(d["deployment_id"])
        days = sorted({(d["started_at"] or d["starts_at"])[:10] for d in deployments})
        now = self.clock()
        per_deployment = {
            d["deployment_id"]: self._operation_fields(
                details["operation"].get(d["deployment_id"]),
                tally(alerts_of[d["deployment_id"]], None),
                now,
                d["ends_at"],
            )
            for d in deployments
        }
        totals = tally(details["alerts"], [f["faces"] for f in details["faces"]])
        hours = sum(p["hours_live"] for p in per_deployment.values())
        started = sum(1 for d in deployments if d["started_at"])
        summary = {
            "operation_id": op["operation_id"],
            "name": op["name"],
            "force": op["force"],
            "purpose": op["purpose"],
            "status": "closed" if op["closed_at"] else "open",
            "opened_at": op["opened_at"],
            "closed_at": op["closed_at"],
            "deployment_count": len(deployments),
            "deployments_started": sum(1 for d in deployments if d["started_at"]),
            "towns": sorted(by_town),
            "town_count": len(by_town),
            "days": days,
            "day_count": len(days),
            "watchlist_size": sum(sizes.values()),
            "thresholds": sorted({float(d["threshold"]) for d in deployments}),
            "totals": totals,
            "mutual_aid_deployments": sum(1 for p in per_deployment.values() if p["mutual_aid"]),
            "hours_live": hours,
            "arrests_per_deployment": _ratio(totals["arrests"], started),
            "alerts_per_hour": _ratio(totals["alerts"], hours),
            "arrests_per_hour": _ratio(totals["arrests"], hours),
            "blue": self._blue(details),
            "by_deployment": [
                {
                    **self._deployment_head(d, sizes[d["deployment_id"]]),
                    **tally(alerts_of[d["deployment_id"]], faces_of[d["deployment_id"]]),
                    **per_deployment[d["deployment_id"]],
                }
                for d in deployments
            ],
            "by_town": [
                tally(
                    [a for i in ids for a in alerts_of[i]],
                    [f for i in ids for f in faces_of[i]],
                    town=town,
                    deployments=len(ids),
                )
                for town, ids in sorted(by_town.items())
            ],
            **self._breakdowns(
                details,
                camera_key=("deployment_id", "camera_id"),
                deployments=[d["deployment_id"] for d in deployments],
            ),
        }
        return msgspec.convert(summary, OperationSummary)

    # --- for operators ----------------------------------------------------------------------

    def _alerts(
        self, deployment_id: UUID, *, with_blue: bool = False
    ) -> tuple[Dict | None, list[Dict]]:
        with store_for(self.settings).connection() as db, db.snapshot():
            found = self._deployments(db, "deployment_id = ?", (str(deployment_id),))
            alerts = _select(
                db,
                _ALERT_COLUMNS,
                "FROM view_alerts WHERE deployment_id = ? ORDER BY raised_at, alert_id",
                (str(deployment_id),),
            )
        if not with_blue:
            alerts = [a for a in alerts if not self.is_blue(a)]
        return (found[0] if found else None), alerts

    def deployment_alerts(self, deployment_id: UUID) -> list[AlertRow]:
        # Operators adjudicate blue alerts like any other: the list keeps them.
        _, alerts = self._alerts(deployment_id, with_blue=True)
        rows = [
            {
                "id": a["alert_id"],
                "entry_id": a["entry_id"],
                "camera_id": a["camera_id"],
                "category": a["category"],
                "similarity": float(a["similarity"]),
                "threshold": float(a["threshold"]),
                "status": alert_state(a),
                "captured_at": a["captured_at"],
                "raised_at": a["raised_at"],
                "adjudicated_at": a["adjudicated_at"],
                "decision": a["decision"],
            }
            for a in alerts
        ]
        return msgspec.convert(rows, list[AlertRow])

    # --- scores -----------------------------------------------------------------------------

    def score_distribution(
        self, deployment_id: UUID, bin_width: float = 0.05
    ) -> ScoreDistribution | None:
        """Alerts per similarity bin [lower, upper), split by adjudication."""
        deployment, alerts = self._alerts(deployment_id)
        if deployment is None:
            return None
        width = _decimal(bin_width)
        binned: dict[int, list[Dict]] = defaultdict(list)
        for a in alerts:
            index = int((_decimal(a["similarity"]) / width).to_integral_value(ROUND_FLOOR))
            binned[index].append(a)
        bins = []
        if binned:
            for index in range(min(binned), max(binned) + 1):
                counts = tally(binned.get(index, []), None)
                bins.append(
                    {
                        "lower": float(index * width),
                        "upper": float((index + 1) * width),
                        **{
                            k: counts[k]
                            for k in (
                                "alerts",
                                "true_alerts",
                                "false_alerts",
                                "inconclusive",
                                "unadjudicated",
                            )
                        },
                    }
                )
        distribution = {
            "deployment_id": deployment["deployment_id"],
            "threshold": float(deployment["threshold"]),
            "bin_width": float(width),
            "bins": bins,
        }
        return msgspec.convert(distribution, ScoreDistribution)

    def threshold_sensitivity(
        self, deployment_id: UUID, step: float = 0.01
    ) -> ThresholdSensitivity | None:
        """The alerts that would remain had the threshold been each higher value, from the
        lowest threshold any alert was raised under up to the first that removes them all."""
        deployment, alerts = self._alerts(deployment_id)
        if deployment is None:
            return None
        increment = _decimal(step)
        base = min([_decimal(deployment["threshold"])] + [_decimal(a["threshold"]) for a in alerts])
        scored = [(_decimal(a["similarity"]), a) for a in alerts]
        top = max((s for s, _ in scored), default=base)
        all_counts = tally(alerts, None)
        rows = []
        threshold = base
        while True:
            kept = [a for s, a in scored if s >= threshold]
            counts = tally(kept, None)
            rows.append(
                {
                    "threshold": float(threshold),
                    "alerts": counts["alerts"],
                    "true_alerts": counts["true_alerts"],
                    "false_alerts": counts["false_alerts"],
                    "inconclusive": counts["inconclusive"],
                    "unadjudicated": counts["unadjudicated"],
                    "arrests": counts["arrests"],
                    "alerts_lost": all_counts["alerts"] - counts["alerts"],
                    "true_alerts_lost": all_counts["true_alerts"] - counts["true_alerts"],
                    "false_alerts_avoided": all_counts["false_alerts"] - counts["false_alerts"],
                }
            )
            if threshold > top or threshold >= 1:
                break
            threshold += increment
        sensitivity = {
            "deployment_id": deployment["deployment_id"],
            "threshold": float(deployment["threshold"]),
            "step": float(increment),
            "rows": rows,
        }
        return msgspec.convert(sensitivity, ThresholdSensitivity)

    # --- publication ------------------------------------------------------------------------

    def publication_records(
        self, period: tuple[date, date] | None = None
    ) -> list[PublicationRecord]:
        """One record per deployment that went live (in `period`, dates both inclusive, if
        given), in the shape forces publish."""
        went_live = "started_at IS NOT NULL"
        bounds: tuple[str, ...] = ()
        if period is not None:
            went_live += " AND started_at >= ? AND started_at < ?"
            bounds = (period[0].isoformat(), (period[1] + timedelta(days=1)).isoformat())
        with store_for(self.settings).connection() as db, db.snapshot():
            deployments = self._deployments(db, went_live, bounds)
            details = self._details(db, went_live, bounds, faces_summed=True)
        sizes: dict[str, int] = defaultdict(int)
        for s in details["sizes"]:
            sizes[s["deployment_id"]] += int(s["entries"])
        alerts_of: dict[str, list[Dict]] = defaultdict(list)
        for a in details["alerts"]:
            alerts_of[a["deployment_id"]].append(a)
        faces_of: dict[str, list[int]] = defaultdict(list)
        for f in details["faces"]:
            faces_of[f["deployment_id"]].append(f["faces"])
        now = self.clock()
        records = []
        for d in deployments:
            counts = tally(alerts_of[d["deployment_id"]], faces_of[d["deployment_id"]])
            records.append(
                publication_record(
                    d,
                    watchlist_size=sizes[d["deployment_id"]],
                    counts=counts,
                    operation=self._operation_fields(
                        details["operation"].get(d["deployment_id"]), counts, now, d["ends_at"]
                    ),
                )
            )
        return msgspec.convert(records, list[PublicationRecord])

    def publication_csv(self, period: tuple[date, date] | None = None) -> str:
        return records_to_csv(msgspec.to_builtins(self.publication_records(period)))

    # --- a period across operations ---------------------------------------------------------

    def period_figures(self, start: date, end: date) -> PeriodFigures:
        """Every deployment that went live from `start` to `end` (dates, both inclusive, UTC)."""
        upper = (end + timedelta(days=1)).isoformat()
        with store_for(self.settings).connection() as db, db.snapshot():
            live_in_period = "started_at IS NOT NULL AND started_at >= ? AND started_at < ?"
            bounds = (start.isoformat(), upper)
            deployments = self._deployments(db, live_in_period, bounds)
            details = self._details(db, live_in_period, bounds, faces_summed=True)
        now = self.clock()
        alerts_of: dict[str, list[Dict]] = defaultdict(list)
        for a in details["alerts"]:
            alerts_of[a["deployment_id"]].append(a)
        fields = {
            d["deployment_id"]: self._operation_fields(
                details["operation"].get(d["deployment_id"]),
                tally(alerts_of[d["deployment_id"]], None),
                now,
                d["ends_at"],
            )
            for d in deployments
        }
        totals = tally(details["alerts"], [f["faces"] for f in details["faces"]])
        hours = sum(f["hours_live"] for f in fields.values())
        months: dict[str, list[Dict]] = defaultdict(list)
        for d in deployments:
            months[d["started_at"][:7]].append(d)
        by_month = []
        for month, ds in sorted(months.items()):
            counts = tally([a for d in ds for a in alerts_of[d["deployment_id"]]], None)
            by_month.append(
                {
                    "month": month,
                    "deployments": len(ds),
                    "hours_live": sum(fields[d["deployment_id"]]["hours_live"] for d in ds),
                    **{
                        k: counts[k]
                        for k in (
                            "alerts",
                            "true_alerts",
                            "false_alerts",
                            "arrests",
                            "compliance_checks",
                        )
                    },
                }
            )
        figures = {
            "from_date": start.isoformat(),
            "to_date": end.isoformat(),
            "operations": len({d["operation_id"] for d in deployments}),
            "deployments": len(deployments),
            "mutual_aid_deployments": sum(1 for f in fields.values() if f["mutual_aid"]),
            "hours_live": hours,
            "faces_reported_by_matcher": totals["faces_processed"] or 0,
            "alerts": totals["alerts"],
            "true_alerts": totals["true_alerts"],
            "false_alerts": totals["false_alerts"],
            "arrests": totals["arrests"],
            "compliance_checks": totals["compliance_checks"],
            "arrests_per_deployment": _ratio(totals["arrests"], len(deployments)),
            "alerts_per_hour": _ratio(totals["alerts"], hours),
            "arrests_per_hour": _ratio(totals["arrests"], hours),
            "totals": totals,
            "by_month": by_month,
            "blue": self._blue(details),
        }
        return msgspec.convert(figures, PeriodFigures)
