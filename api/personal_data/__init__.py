"""The one way to read personal or pseudonymous personal data (DPA 2018 Part 3 s.62).

`PersonalData(ledger, actor)` is what a route, a CLI command or the demo holds to read alerts
(listed, streamed, one alert's timeline), face crops, watchlists, entries and their images (an
officer: only the entry of an alert decided a match, `engagement.py`), the matcher's templates,
a deployment's history and its complaints, subject access, the equality tables and trend,
bundles and the access log. Each method checks the reader may read the record
(`_authorise`: the role, and an oversight body's grants, `domain/oversight_grant.py`), records the
consultation (actor and role, the body it acts for, purpose, record) before anything of it is
opened or returned, then reads. A stated purpose is passed in; for reads made in a role's own
work the layer names it ("adjudicating alert …").

Nothing else in `api/` reaches that data: the oversight services that read it may be imported
only here (an import-linter contract in `pyproject.toml`), and no other module of `api/` calls
the ledger's unsealing methods or the log readers behind these reads
(`tests/test_personal_data_layer.py`). Every route of `api/guards.ACCESS` declares what its reply
holds about people, and `tests/test_consultation_walk.py` calls each that returns personal data
with every role it admits and finds the consultation.
"""

from __future__ import annotations

from lfr_ledger.api.personal_data.base import READERS, NotHeld, Read
from lfr_ledger.api.personal_data.cases import (
    AlertList,
    AlertTimeline,
    CaseReads,
    DeploymentWatchlist,
    EntryRead,
)
from lfr_ledger.api.personal_data.complaints import ComplaintRead, ComplaintReads
from lfr_ledger.api.personal_data.engagement import EngagedEntry, EngagementReads
from lfr_ledger.api.personal_data.oversight import AccessLogEntry, HistoryEvent, OversightReads
from lfr_ledger.oversight.equality import Audience
from lfr_ledger.oversight.subject_access import SubjectRecords


class PersonalData(CaseReads, OversightReads, ComplaintReads, EngagementReads):
    """One reader's reads of personal data, each logged as a consultation (see the module)."""


__all__ = [
    "READERS",
    "AccessLogEntry",
    "AlertList",
    "AlertTimeline",
    "Audience",
    "ComplaintRead",
    "DeploymentWatchlist",
    "EngagedEntry",
    "EntryRead",
    "HistoryEvent",
    "NotHeld",
    "PersonalData",
    "Read",
    "SubjectRecords",
]
