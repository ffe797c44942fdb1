"""A deployment: one authorised use of LFR at one place for one window, and its watchlist.

The package holds what the log stores of it, here: each event's stored topic
(`DeploymentTopic`) and why a deployment ended (`EndReason`). `aggregate.py` assembles the
`Deployment` aggregate from one facet per concern, each with its commands and their events:
`authority.py` (authorisation, refusal, urgent authority), `threshold.py`, `watchlist.py`,
`lifecycle.py` (start, pause, resume, the end and its deadlines), `signage.py` (the
public notice's lead time, the signs on the day), `review.py` (the post-deployment review),
`cameras.py` (camera silence), `blue.py` (blue walk-pasts) and `publication.py` (results
published for the public), on `state.py` (the state every facet reads and the rules they share).
"""

from __future__ import annotations


class DeploymentTopic:
    """The stored topic of each Deployment event. Stable strings, so classes can move without
    breaking stored events; readers of the log filter on these, never on literals."""

    PROPOSED = "lfr/Deployment.Proposed"
    AUTHORISED = "lfr/Deployment.Authorised"
    URGENT_AUTHORITY_CONFIRMED = "lfr/Deployment.UrgentAuthorityConfirmed"
    REFUSED = "lfr/Deployment.Refused"
    THRESHOLD_CHANGED = "lfr/Deployment.ThresholdChanged"
    WATCHLIST_ENTRY_ADDED = "lfr/Deployment.WatchlistEntryAdded"
    WATCHLIST_REVIEWED = "lfr/Deployment.WatchlistReviewed"
    WATCHLIST_DESTROYED = "lfr/Deployment.WatchlistDestroyed"
    SIGNAGE_CONFIRMED = "lfr/Deployment.SignageConfirmed"
    STARTED = "lfr/Deployment.Started"
    PAUSED = "lfr/Deployment.Paused"
    RESUMED = "lfr/Deployment.Resumed"
    ENDED = "lfr/Deployment.Ended"
    POST_DEPLOYMENT_REVIEWED = "lfr/Deployment.PostDeploymentReviewed"
    URGENT_AUTHORITY_LAPSED = "lfr/Deployment.UrgentAuthorityLapsed"
    # camera health
    CAMERA_WENT_SILENT = "lfr/Deployment.CameraWentSilent"
    CAMERA_REPORTING = "lfr/Deployment.CameraReporting"
    # analytics: a consenting test subject walked past a camera
    BLUE_WALK_PAST_RECORDED = "lfr/Deployment.BlueWalkPastRecorded"
    # transparency: the results published for the public, or recorded overdue
    RESULTS_PUBLISHED = "lfr/Deployment.ResultsPublished"
    PUBLICATION_OVERDUE = "lfr/Deployment.PublicationOverdue"


class EndReason:
    """Why a deployment ended: the operator ended it, or the ledger did, on a deadline."""

    OPERATOR = "operator"
    WINDOW_CLOSED = "window_closed"
    URGENT_AUTHORITY_LAPSED = "urgent_authority_lapsed"
