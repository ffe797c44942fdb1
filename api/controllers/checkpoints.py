"""The latest checkpoint this node signed, for the administrator: how old it is, how many
events were recorded after it, and whether that is longer than it should be (`lfr serve`
signs one every minute when the log grew). The checkpoint itself is checked by GET /audit/verify
(oversight); this reads its file only."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get

from lfr_ledger.api.dependencies import ActorDep, ServicesDep
from lfr_ledger.api.problems import problem_spec
from lfr_ledger.api.schemas.admin import CheckpointAge
from lfr_ledger.domain.actors import Role
from lfr_ledger.domain.clock import utcnow

# Ten periods of the server's default signing interval (`lfr serve --checkpoint-every 60`): a
# node that signs no checkpoint for that long while the log grows has a stopped job.
STALE_AFTER_SECONDS = 600


class CheckpointController(Controller):
    path = "/checkpoints"
    tags = ("audit",)

    @get(
        "/latest",
        sync_to_thread=True,
        summary="The age of the latest signed checkpoint, and whether it is stale (admin)",
        description="Stale when events were recorded after it and it is older than "
        "`stale_after_seconds`, or when the log holds events and none was signed.",
        responses=problem_spec(401, 403),
    )
    def latest(self, services: ServicesDep, actor: ActorDep) -> CheckpointAge:
        actor.require(Role.ADMIN)
        from lfr_ledger.eventlog.checkpoint import latest_checkpoint_path, read_checkpoint

        head = int(services.ledger.recorder.max_notification_id() or 0)
        path = latest_checkpoint_path(services.settings)
        if path is None:
            return CheckpointAge(
                signed_at=None,
                age_seconds=None,
                last_id=None,
                head=head,
                events_since=head,
                stale_after_seconds=STALE_AFTER_SECONDS,
                stale=head > 0,
            )
        checkpoint = read_checkpoint(path)
        signed_at = datetime.fromisoformat(str(checkpoint["created_at"]))
        # The signer dates checkpoints by the machine's clock (`utcnow`), and so is the age.
        age = max(0.0, (utcnow() - signed_at).total_seconds())
        last_id = int(checkpoint["last_id"])
        since = max(head - last_id, 0)
        return CheckpointAge(
            signed_at=signed_at,
            age_seconds=round(age, 1),
            last_id=last_id,
            head=head,
            events_since=since,
            stale_after_seconds=STALE_AFTER_SECONDS,
            stale=since > 0 and age > STALE_AFTER_SECONDS,
        )
