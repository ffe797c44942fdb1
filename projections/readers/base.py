"""The base every reader builds on: the rows it loads from the views (a deployment, its
alerts, faces, cameras, watchlist sizes, forces and blue walk-pasts), blue (test-subject) rows
set apart from the operational ones, and the fields of a deployment's operation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.clock import utcnow
from lfr_ledger.domain.policy import Policy
from lfr_ledger.projections.analytics_views import BlueWalkPastsView, DeploymentOperationView
from lfr_ledger.projections.db import Database
from lfr_ledger.projections.readers.figures import Row, blue_figures, hours_live, ratio
from lfr_ledger.projections.statistics import tally
from lfr_ledger.projections.store import store_for
from lfr_ledger.projections.views import AlertsView, DeploymentsView, FacesView

_DEPLOYMENT_COLUMNS = DeploymentsView.tables[1].columns
_ALERT_COLUMNS = AlertsView.tables[0].columns
_FACE_COLUMNS = FacesView.tables[0].columns
_OPERATION_COLUMNS = DeploymentOperationView.tables[0].columns
_WALK_PAST_COLUMNS = BlueWalkPastsView.tables[0].columns


def select_rows(
    db: Database, columns: Sequence[str], rest: str, params: Sequence[Any] = ()
) -> list[Row]:
    rows = db.execute(f"SELECT {', '.join(columns)} {rest}", params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


@dataclass
class PerDeployment:
    """What `ViewReader._details` found, grouped by deployment id: watchlist sizes, alert rows
    and face counts."""

    sizes: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    alerts: defaultdict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    faces: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, details: Row) -> PerDeployment:
        grouped = cls()
        for s in details["sizes"]:
            grouped.sizes[s["deployment_id"]] += int(s["entries"])
        for a in details["alerts"]:
            grouped.alerts[a["deployment_id"]].append(a)
        for f in details["faces"]:
            grouped.faces[f["deployment_id"]].append(f["faces"])
        return grouped


# At most this many deployments are read one by one (a day's fleet, a week's); more are
# joined to their selection in one pass, as an export of them all reads most rows anyway.
LISTED_AT_MOST = 500


@dataclass(frozen=True)
class _Pick:
    """Which deployments' rows a detail query reads: those `where` selects from
    view_deployments (a sub-select, one pass), or, given their few `ids`, each deployment's
    by its own query on the indexed column.

    Why one query each: PostgreSQL plans the sub-select as a join, and at 1.3 M events it
    hashed each whole detail table against the selection (every face count and alert of the
    year scanned for one day's fifty deployments), so a day's publication took the time of the
    history. A list `IN (...)` fares no better (its share of the table is guessed from the
    list's length), and one statement of many branches is run in parallel workers whose start
    costs more than the reads. An equality on the indexed column leaves the planner no such
    choice: the rows read are the deployments' own."""

    where: str
    params: Sequence[Any]
    ids: Sequence[str] | None

    def rows(self, db: Database, columns: Sequence[str], body: str, order: str) -> list[Row]:
        """`body` ("SELECT {cols} FROM ... WHERE {inn} ...") for the picked deployments,
        ordered by the columns `order` names."""
        cols = ", ".join(columns)
        if self.ids is None or len(self.ids) > LISTED_AT_MOST:
            selected = f"SELECT deployment_id FROM view_deployments WHERE {self.where}"
            statement = body.format(cols=cols, inn=f"deployment_id IN ({selected})")
            return select_rows(
                db, columns, f"FROM ({statement}) AS picked ORDER BY {order}", self.params
            )
        one = f"FROM ({body.format(cols=cols, inn='deployment_id = ?')}) AS picked"
        found = [row for i in self.ids for row in select_rows(db, columns, one, (i,))]
        keys = [key.strip() for key in order.split(",")]
        return sorted(found, key=lambda row: tuple(row[key] for key in keys))


class ViewReader:
    """What every reader shares: the settings of the ledger it reads, which watchlist
    categories are blue (test subjects), the clock, and the loading of deployments with their
    alerts, face reports, cameras and watchlist sizes."""

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
        self.clock = clock or utcnow
        if blue_categories is None:
            blue_categories = Policy.load(settings.policy_path).blue_categories
        self.blue_categories = frozenset(blue_categories)

    def is_blue(self, row: Row) -> bool:
        return row["category"] in self.blue_categories

    def _deployments(self, db: Database, where: str, params: Sequence[Any]) -> list[Row]:
        return select_rows(
            db,
            _DEPLOYMENT_COLUMNS,
            f"FROM view_deployments WHERE {where} ORDER BY starts_at, deployment_id",
            params,
        )

    def _details(
        self,
        db: Database,
        where: str,
        params: Sequence[Any],
        *,
        faces_summed: bool = False,
        ids: Sequence[str] | None = None,
    ) -> Row:
        """Alerts, face reports, cameras and watchlist sizes of the deployments `where` picks
        (as `_deployments` does); blue (test-subject) alerts and entries apart from the
        operational ones; each deployment's forces and time live; the blue walk-pasts.
        `faces_summed`: one face row per deployment (its total), for readers that need no
        breakdown by camera or day (a van-day reports faces 960 times). `ids`: the ids of
        those deployments, when the caller has them (`_deployments`' rows): a few are then
        read each by its index, whatever the history around them."""
        pick = _Pick(where, params, ids)
        if faces_summed:
            faces = pick.rows(
                db,
                ("deployment_id", "faces"),
                "SELECT deployment_id, CAST(SUM(faces) AS BIGINT) AS faces "
                "FROM view_face_counts WHERE {inn} GROUP BY deployment_id",
                "deployment_id",
            )
        else:
            faces = pick.rows(
                db, _FACE_COLUMNS, "SELECT {cols} FROM view_face_counts WHERE {inn}", "report_id"
            )
        found: Row = {
            "alerts": pick.rows(
                db, _ALERT_COLUMNS, "SELECT {cols} FROM view_alerts WHERE {inn}", "alert_id"
            ),
            "faces": faces,
            "cameras": pick.rows(
                db,
                ("deployment_id", "camera_id", "camera_name"),
                "SELECT {cols} FROM view_deployment_cameras WHERE {inn}",
                "deployment_id, camera_id",
            ),
            "sizes": pick.rows(
                db,
                ("deployment_id", "category", "entries"),
                "SELECT deployment_id, category, COUNT(*) AS entries "
                "FROM view_watchlist_entries WHERE {inn} AND counted_in_size = 1 "
                "GROUP BY deployment_id, category",
                "deployment_id, category",
            ),
            "walk_pasts": pick.rows(
                db,
                _WALK_PAST_COLUMNS,
                "SELECT {cols} FROM view_blue_walk_pasts WHERE {inn}",
                "deployment_id, version",
            ),
        }
        found["operation"] = {
            row["deployment_id"]: row
            for row in pick.rows(
                db,
                _OPERATION_COLUMNS,
                "SELECT {cols} FROM view_deployment_operation WHERE {inn}",
                "deployment_id",
            )
        }
        # Blue alerts and entries are measured apart and never reach an operational figure.
        found["blue_alerts"] = [a for a in found["alerts"] if self.is_blue(a)]
        found["alerts"] = [a for a in found["alerts"] if not self.is_blue(a)]
        found["blue_sizes"] = [s for s in found["sizes"] if self.is_blue(s)]
        found["sizes"] = [s for s in found["sizes"] if not self.is_blue(s)]
        return found

    def _operation_fields_of(
        self, deployments: Sequence[Row], details: Row, grouped: PerDeployment
    ) -> dict[str, Row]:
        """`_operation_fields` of each deployment, by id, as of the reader's clock."""
        now = self.clock()
        return {
            d["deployment_id"]: self._operation_fields(
                details["operation"].get(d["deployment_id"]),
                tally(grouped.alerts[d["deployment_id"]], None),
                now,
                d["ends_at"],
            )
            for d in deployments
        }

    @staticmethod
    def _operation_fields(
        operation: Row | None, counts: Row, now: datetime, window_end: str | None = None
    ) -> Row:
        """Forces, mutual aid, hours live and the per-hour rates of one deployment."""
        hours = hours_live(operation, now, window_end)
        return {
            "controlling_force": operation["controlling_force"] if operation else "",
            # "" in the view: an owner the plan declared not known, shown as null.
            "equipment_owner_force": (operation["equipment_owner_force"] or None)
            if operation
            else "",
            "mutual_aid": bool(operation["mutual_aid"]) if operation else False,
            "hours_live": hours,
            "alerts_per_hour": ratio(counts["alerts"], hours),
            "arrests_per_hour": ratio(counts["arrests"], hours),
        }

    @staticmethod
    def _blue(details: Row, deployment_ids: Sequence[str] | None = None) -> Row:
        def keep(row: Row) -> bool:
            return deployment_ids is None or row["deployment_id"] in deployment_ids

        return blue_figures(
            [a for a in details["blue_alerts"] if keep(a)],
            [w for w in details["walk_pasts"] if keep(w)],
            sum(int(s["entries"]) for s in details["blue_sizes"] if keep(s)),
        )

    def _alerts(
        self, deployment_id: UUID, *, with_blue: bool = False
    ) -> tuple[Row | None, list[Row]]:
        """A deployment's row (None if there is none) and its alerts in the order raised;
        blue (test-subject) alerts only `with_blue`."""
        with store_for(self.settings).connection() as db, db.snapshot():
            found = self._deployments(db, "deployment_id = ?", (str(deployment_id),))
            alerts = select_rows(
                db,
                _ALERT_COLUMNS,
                "FROM view_alerts WHERE deployment_id = ? ORDER BY raised_at, alert_id",
                (str(deployment_id),),
            )
        if not with_blue:
            alerts = [a for a in alerts if not self.is_blue(a)]
        return (found[0] if found else None), alerts
