"""The public page's words: the feed (`api/schemas/public.py`) as a member of the public reads
it. Times in UK local time with the zone's name (GMT or BST), each in a `<time>` element whose
`datetime` is the UTC instant; watchlist categories and states in plain English; figures with
their meaning. The page is rendered on the server: it needs no script."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lfr_ledger.api.schemas.public import (
    AfterTheDeployment,
    PublicDeployment,
    PublicFeed,
    PublishedResult,
    ResultDue,
    UpcomingDeployment,
)
from lfr_ledger.projections.readers.public import UK

# The default policy's categories, as the public would say them; a force's own codes are shown
# with their underscores turned to spaces.
CATEGORY_WORDS = {
    "wanted_by_courts": "people wanted by the courts",
    "suspected_offender": "people suspected of an offence",
    "subject_to_court_order": "people under court or licence conditions (bail, orders)",
    "missing_person": "missing people",
    "at_risk": "people at risk of harm to themselves or others",
    "victim_or_witness": "victims and witnesses the police need to find",
    "test_subject": "police officers who volunteer to test the cameras",
}
STATUS_WORDS = {
    "proposed": "Planned: awaiting authorisation",
    "authorised": "Authorised",
    "live": "Cameras live now",
    "paused": "Paused",
}


def _words(code: str) -> str:
    return code.replace("_", " ")


def moment(at: datetime) -> dict[str, str]:
    """One instant: its UTC ISO form (for `<time datetime>`) and its UK reading."""
    uk = at.astimezone(UK)
    return {
        "utc": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "text": f"{uk:%A} {uk.day} {uk:%B %Y} at {uk:%H:%M} {uk.tzname()}",
        "day": f"{uk:%A} {uk.day} {uk:%B %Y}",
    }


def window(starts: datetime, ends: datetime) -> dict[str, Any]:
    """From .. to, in UK time: one day named once when both fall on it."""
    a, b = starts.astimezone(UK), ends.astimezone(UK)
    if a.date() == b.date():
        text = f"{a:%A} {a.day} {a:%B %Y}, {a:%H:%M} to {b:%H:%M} {b.tzname()}"
    else:
        text = (
            f"{a:%A} {a.day} {a:%B %Y}, {a:%H:%M} {a.tzname()} to "
            f"{b:%A} {b.day} {b:%B %Y}, {b:%H:%M} {b.tzname()}"
        )
    return {"text": text, "starts": moment(starts), "ends": moment(ends)}


def _head(d: PublicDeployment) -> dict[str, Any]:
    notice = d.advance_notice
    return {
        "id": d.deployment_id,
        "place": f"{d.location.name}, {d.location.town}",
        "kind_of_place": _words(d.location.location_type),
        "purpose": d.purpose,
        "categories": [CATEGORY_WORDS.get(c, _words(c)) for c in d.watchlist_categories],
        "window": window(d.starts_at, d.ends_at),
        "notice": None
        if notice is None
        else {"method": notice.method, "issued": moment(notice.issued_at)},
    }


def _after(d: AfterTheDeployment) -> dict[str, Any]:
    return {
        **_head(d),
        "live": window(d.went_live_at, d.ended_at),
        "due_by": moment(d.due_by),
    }


def _count(value: int | None) -> str:
    return "not reported" if value is None else f"{value:,}"


def _result(r: PublishedResult) -> dict[str, Any]:
    record = r.record
    figures = [
        ("Faces the cameras processed", _count(record.faces_processed)),
        ("Alerts", _count(record.alerts)),
        ("Alerts confirmed as a match by the operator", _count(record.true_alerts)),
        ("False alerts (not the person on the watchlist)", _count(record.false_alerts)),
        ("People spoken to by an officer", _count(record.engagements)),
        ("Arrests", _count(record.arrests)),
        ("Checks of court or licence conditions", _count(record.compliance_checks)),
        ("Other outcomes", _count(record.other_outcomes)),
        ("People on the watchlist", _count(record.watchlist_size)),
        ("Similarity threshold", f"{record.threshold:g}"),
        ("Hours the cameras were live", f"{round(record.hours_live, 1):g}"),
    ]
    run_by = record.controlling_force
    if record.mutual_aid:
        run_by += f", on equipment of {record.equipment_owner_force}"
    return {
        **_after(r),
        "figures": figures,
        "run_by": run_by,
        "published": moment(r.published_at),
        "late": r.published_late,
    }


def _due(r: ResultDue) -> dict[str, Any]:
    return {**_after(r), "overdue": r.overdue}


def _upcoming(u: UpcomingDeployment) -> dict[str, Any]:
    return {**_head(u), "status": STATUS_WORDS.get(u.status, _words(u.status))}


def page_context(feed: PublicFeed) -> dict[str, Any]:
    """What `public.html` shows, from the feed the JSON route returns."""
    return {
        "title": "Live facial recognition: where and when",
        "generated": moment(feed.generated_at),
        "policy": feed.force_policy,
        "legal_basis": feed.legal_basis,
        "complaints": feed.complaints,
        "results_within_days": feed.results_within_days,
        "rules": feed.listing_rules,
        "upcoming": [_upcoming(u) for u in feed.upcoming],
        "results": [_result(r) for r in feed.results],
        "due": [_due(r) for r in feed.results_due],
    }
