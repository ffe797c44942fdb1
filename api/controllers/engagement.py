"""The officer sent to engage on an alert reads who to look for: the watchlist entry the alert
matched and its enrolled image, only once an operator decided the alert is a match."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath
from litestar.response import Response

from lfr_ledger.api.controllers.alerts import image_response
from lfr_ledger.api.dependencies import ReadsDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.engagement import EngagedEntryOut

ENGAGING = (
    "**Logged.** Read by the officer engaging on the alert, and only for an alert an operator "
    "decided is a match (403 otherwise): the read is recorded as a consultation of the entry "
    'with the purpose "engaging on alert <id>" (DPA 2018 s.62).'
)


class EngagementController(Controller):
    path = "/"
    tags = ("alerts",)

    @get(
        "/alerts/{alert_id:uuid}/entry",
        sync_to_thread=True,
        summary="Who to look for: the matched entry's category, offence and description (officer)",
        description="What the officer sent to engage needs to know the person by: the entry's "
        "category, offence, description (build, marks, warning markers) and whether an image "
        "is held. No name, reference, rationale or legal basis.\n\n" + ENGAGING,
        responses=problem_spec(400, 401, 403, 404),
    )
    def engaged_entry(self, alert_id: FromPath[UUID], reads: ReadsDep) -> EngagedEntryOut:
        read = reads.engaged_entry(alert_id)
        return EngagedEntryOut(
            alert_id=alert_id,
            entry_id=read.entry.id,
            name=read.name,
            category=read.entry.category,
            offence=read.offence,
            description=read.description,
            under_18=read.entry.under_18,
            entry_status=str(read.entry.status),
            has_image=read.has_image,
            erased=read.erased,
        )

    @get(
        "/alerts/{alert_id:uuid}/entry/image",
        sync_to_thread=True,
        media_type="image/jpeg",
        summary="The matched entry's enrolled image, to compare with the person (officer)",
        description="The image the watchlist manager enrolled, as stored (JPEG or PNG). 404 "
        "`no-image` when the entry was enrolled without one, `image-destroyed` once its "
        "watchlist was destroyed.\n\n" + ENGAGING,
        response_description="The enrolled image (image/jpeg, or image/png as enrolled)",
        responses=problem_spec(400, 401, 403, 404),
    )
    def engaged_image(self, alert_id: FromPath[UUID], reads: ReadsDep) -> Response[bytes]:
        return image_response(reads.engaged_image(alert_id))
