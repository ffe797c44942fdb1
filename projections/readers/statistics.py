"""The one reader the API, the CLI and the benches hold: every read model's reader together,
over one ledger's views, with one clock and one set of blue categories."""

from __future__ import annotations

from lfr_ledger.projections.readers.alert_list import AlertListReader
from lfr_ledger.projections.readers.deployment_summary import DeploymentSummaryReader
from lfr_ledger.projections.readers.operation_summary import OperationSummaryReader
from lfr_ledger.projections.readers.period_figures import PeriodFiguresReader
from lfr_ledger.projections.readers.public import PublicReader
from lfr_ledger.projections.readers.publication_records import PublicationReader
from lfr_ledger.projections.readers.scores import ScoreReader


class StatisticsReader(
    DeploymentSummaryReader,
    OperationSummaryReader,
    AlertListReader,
    ScoreReader,
    PublicationReader,
    PeriodFiguresReader,
    PublicReader,
):
    """Summaries, alert lists, scores, publication records, a period's figures and the public
    feed. Each comes from its own reader; this class only puts them behind one object (the
    readers share their construction, `ViewReader`)."""
