"""The parts a deployment's and an operation's summaries share: a deployment's head (where,
when, under which threshold) and the breakdowns by camera, watchlist category and day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from lfr_ledger.projections.readers.figures import Row
from lfr_ledger.projections.statistics import tally


def breakdowns(details: Row, *, camera_key: Sequence[str], deployments: Sequence[str] = ()) -> Row:
    """By camera (in deployment order), by watchlist category and by day."""
    order = {d: i for i, d in enumerate(deployments)}
    alerts, faces = details["alerts"], details["faces"]
    by_camera: dict[tuple[str, ...], tuple[list[Row], list[int]]] = {}
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
    by_category: dict[str, list[Row]] = {c: [] for c in sizes}
    for a in alerts:
        by_category.setdefault(a["category"], []).append(a)

    by_day: dict[str, tuple[list[Row], list[int]]] = defaultdict(lambda: ([], []))
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


def deployment_head(d: Row, size: int) -> Row:
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
