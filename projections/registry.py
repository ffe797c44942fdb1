"""Every view the runner feeds, in the order it applies them, and their names: the one list a
new view is added to. Views import their base from `view_base.py`, never this module, so the
list can import every view module without a circle."""

from __future__ import annotations

from lfr_ledger.projections.analytics_views import BlueWalkPastsView, DeploymentOperationView
from lfr_ledger.projections.camera_silences import CameraSilencesView
from lfr_ledger.projections.oversight_indexes import RetentionDeadlinesView, SubjectIndexView
from lfr_ledger.projections.public import PublicDeploymentsView
from lfr_ledger.projections.reviews import ReviewsView
from lfr_ledger.projections.view_base import View
from lfr_ledger.projections.views import AlertsView, DeploymentsView, FacesView


def all_views() -> list[View]:
    """A fresh instance of every view (a view's handlers are bound to its instance)."""
    return [
        DeploymentsView(),
        AlertsView(),
        FacesView(),
        CameraSilencesView(),
        DeploymentOperationView(),
        BlueWalkPastsView(),
        SubjectIndexView(),
        RetentionDeadlinesView(),
        PublicDeploymentsView(),
        ReviewsView(),
    ]


VIEW_NAMES: tuple[str, ...] = tuple(v.name for v in all_views())
