"""The live demo's watchlist as files: `watchlist.csv`, in exactly the format `lfr watchlist
import` takes, and the portraits it names. With the demo's street video, it lets a person try the
live path on a deployment of their own (README, "Try the live path yourself"): the two people it
holds walk past the video's camera among five who are not on it.

The portraits are the very photos the demo enrols (cut and encoded the same way), so an import
from this folder gives the same templates as the demo's own enrolment.
"""

from __future__ import annotations

import csv
import shlex
from pathlib import Path

from lfr_ledger.api.cli.watchlist import REQUIRED_COLUMNS
from lfr_ledger.api.demo.live import SUBJECTS
from lfr_ledger.api.demo.street.people import encode_jpeg
from lfr_ledger.api.demo.street.script import ENROLLED, portraits
from lfr_ledger.matching.engines.faces import FaceEngine

FOLDER = "sample-watchlist"
CSV_FILE = "watchlist.csv"
COLUMNS = (*REQUIRED_COLUMNS, "image_taken_on")


def write_sample_watchlist(folder: Path, engine: FaceEngine) -> Path:
    """Writes the CSV and one JPEG per enrolled person into `folder`; returns the CSV's path."""
    folder.mkdir(parents=True, exist_ok=True)
    photos = portraits(engine)
    rows = []
    for person in ENROLLED:
        enrolment = SUBJECTS[person]
        image = f"{enrolment.subject_ref}.jpg"
        (folder / image).write_bytes(encode_jpeg(photos[person]))
        rows.append(
            {
                "subject_ref": enrolment.subject_ref,
                "name": enrolment.name,
                "category": enrolment.category,
                "legal_basis": enrolment.legal_basis,
                "rationale": enrolment.rationale,
                "offence": enrolment.offence,
                "image_source": enrolment.image_source,
                "image_path": image,
                "image_taken_on": (
                    enrolment.image_taken_on.isoformat() if enrolment.image_taken_on else ""
                ),
            }
        )
    path = folder / CSV_FILE
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def categories() -> tuple[str, ...]:
    """The watchlist categories a deployment must allow to enrol the sample."""
    return tuple(sorted({SUBJECTS[person].category for person in ENROLLED}))


def try_it_yourself(csv_path: Path, video: Path) -> str:
    """What the demo prints about its sample: where it is, and the steps on a ledger of one's
    own, as commands a fresh shell in this directory can run (ID: the deployment's)."""
    from lfr_ledger.api.cli.output import lfr_command

    lfr, csv_file, source = lfr_command(), shlex.quote(str(csv_path)), shlex.quote(str(video))
    token = f'"$({lfr} token --role matcher --sub van-1 --deployment ID)"'
    return "\n".join(
        [
            "\n== Try the live path yourself ==",
            f"The demonstration's watchlist, as `{lfr} watchlist import` takes it (its "
            f"{len(ENROLLED)} portraits beside it): {csv_file}",
            f"The street video they walk through, among five people not on it: {source}",
            "On a ledger of your own (README.md, 'Try the live path yourself', runs every "
            "step): propose a deployment allowing the categories "
            f"{' and '.join(categories())}, with camera cam-1, and authorise it; then",
            f"  {lfr} watchlist import --deployment ID {csv_file} --actor-id SGT-1",
            f"review its watchlist, confirm the signs and start it; then, with `{lfr} serve` "
            "running on your ledger,",
            f"  {lfr} match --deployment ID --camera cam-1 --source {source} --realtime "
            f"--api http://127.0.0.1:8000 --token {token}",
            "and watch the alerts arrive on the operator's console.",
        ]
    )
