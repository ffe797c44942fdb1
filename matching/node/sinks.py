"""Where the runner's alerts and face counts go (the pipeline's `AlertSink` and `HeartbeatSink`):
the Application in process, or the HTTP API with a matcher token (retried with backoff; a
refusal comes back as the domain error it names).

What goes is the domain's own value, as the runner built it (`AlertClaim`, `HeartbeatReport`):
in process it is handed as it is to the ledger's command; over HTTP msgspec writes it as the
route's body (`request_body`). Every claim carries an id derived from what it reports, so a
resend is recorded once.

Heartbeats go the same two ways: how the camera's matcher ran over the last interval (frames
its source offered, processed and dropped, faces seen, the times its source was lost), counts
and times only. They are best effort: one lost is replaced by the next, so they are neither
retried nor made idempotent."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.commands.camera_health import HEARTBEAT_GAPS_MAX, HeartbeatReport
from lfr_ledger.domain.errors import error_of_kind
from lfr_ledger.matching.pipeline.ports import FacesCounted

if TYPE_CHECKING:
    import httpx

    from lfr_ledger.domain.actors import Actor
    from lfr_ledger.domain.application import CaseLedger

logger = logging.getLogger("lfr.matching")


def latest_gaps(report: HeartbeatReport) -> HeartbeatReport:
    """The report with only its source's latest HEARTBEAT_GAPS_MAX gaps, the most the ledger
    takes in one heartbeat: a source flapping all interval must not make the heartbeat refused,
    and its latest gaps say what the operator needs (is it down now, and since when)."""
    if len(report.source_gaps) <= HEARTBEAT_GAPS_MAX:
        return report
    return replace(report, source_gaps=tuple(report.source_gaps)[-HEARTBEAT_GAPS_MAX:])


def request_body(report: AlertClaim | HeartbeatReport | FacesCounted) -> dict[str, Any]:
    """What a POST carries of a report: the value itself, as msgspec writes it (ids and times
    as strings, a crop as base64), less the deployment its route's path names."""
    body: dict[str, Any] = msgspec.to_builtins(report)
    del body["deployment_id"]
    return body


class LedgerSink:
    """In-process: the Application's commands, as the deployment's matcher account."""

    def __init__(
        self,
        ledger: CaseLedger,
        actor: Actor,
        *,
        heartbeats: Callable[[Actor, HeartbeatReport], bool] | None = None,
    ) -> None:
        self.ledger = ledger
        self.actor = actor
        # Where heartbeats are kept (the composition root's `api.camera_health`); none: dropped.
        self._heartbeats = heartbeats

    def send_heartbeat(self, report: HeartbeatReport) -> bool:
        if self._heartbeats is None:
            return False
        return self._heartbeats(self.actor, latest_gaps(report))

    def raise_alert(self, claim: AlertClaim) -> UUID:
        return self.ledger.raise_alert(self.actor, claim)

    def report_faces_counted(self, report: FacesCounted) -> UUID:
        return self.ledger.report_faces_counted(
            self.actor,
            report.deployment_id,
            camera_id=report.camera_id,
            period_start=report.period_start,
            period_end=report.period_end,
            count=report.count,
        )


class SinkUnavailable(RuntimeError):
    """The API could not be reached (or kept failing) after every retry."""


class MatcherApi:
    """A matcher node's one connection to the HTTP API: the matcher's bearer token, retries
    with backoff, and failover across the API nodes it was given (`lfr match --api A,B`), so a
    node that dies mid-stream costs a retry, not the run. What the node writes (`HttpSink`) and
    what it reads (`matching.remote`) both go through it.

    Transport errors, 5xx and 429 are retried, each time on the next node; a refusal (a 4xx
    problem) is raised at once as the domain error it names."""

    def __init__(
        self,
        api_urls: str | Sequence[str],
        token: str,
        *,
        client: httpx.Client | None = None,
        retries: int = 5,
        backoff_seconds: float = 0.2,
        timeout_seconds: float = 10.0,
    ) -> None:
        import httpx

        urls = [api_urls] if isinstance(api_urls, str) else list(api_urls)
        if client is not None:
            self._clients = [client]
        else:
            self._clients = [
                httpx.Client(base_url=url.rstrip("/"), timeout=timeout_seconds) for url in urls
            ]
        if not self._clients:
            raise ValueError("a matcher needs at least one API URL")
        self._node = 0
        self._headers = {"Authorization": f"Bearer {token}"}
        self.retries = retries
        self._backoff = backoff_seconds

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        idempotency_key: UUID | None = None,
    ) -> Any:
        """The decoded JSON answer. Without an idempotency key a POST is sent once (a
        heartbeat lost is replaced by the next one)."""
        import httpx

        headers = dict(self._headers)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = str(idempotency_key)
        safe = method == "GET" or idempotency_key is not None
        attempts = self.retries + 1 if safe else 1
        last = ""
        for attempt in range(attempts):
            # Every node is tried once before any back-off: the first failover is immediate.
            if attempt >= len(self._clients):
                time.sleep(self._backoff * 2 ** (attempt - len(self._clients)))
            node = self._node
            try:
                response = self._clients[node].request(
                    method, path, json=body, params=params, headers=headers
                )
            except httpx.TransportError as error:
                last = f"{type(error).__name__}: {error}"
            else:
                if response.status_code < 400:
                    return response.json()
                if response.status_code < 500 and response.status_code != 429:
                    raise _refusal(response)
                last = f"HTTP {response.status_code}"
            self._node = (node + 1) % len(self._clients)
        tries = f"after {attempts} attempts " if attempts > 1 else ""
        raise SinkUnavailable(f"{method} {path} failed {tries}({last})")

    def close(self) -> None:
        for client in self._clients:
            client.close()


class HttpSink:
    """A remote matcher node's writes: posts to the HTTP API with a matcher bearer token.

    Every POST of an alert or a count carries an `Idempotency-Key` (the alert's or the count's
    derived id), so a retry after a lost response, or on another API node, records nothing
    new."""

    def __init__(
        self,
        api_urls: str | Sequence[str] | MatcherApi,
        token: str = "",
        *,
        client: httpx.Client | None = None,
        retries: int = 5,
        backoff_seconds: float = 0.2,
        timeout_seconds: float = 10.0,
    ) -> None:
        if isinstance(api_urls, MatcherApi):
            self.api = api_urls
        else:
            self.api = MatcherApi(
                api_urls,
                token,
                client=client,
                retries=retries,
                backoff_seconds=backoff_seconds,
                timeout_seconds=timeout_seconds,
            )

    def raise_alert(self, claim: AlertClaim) -> UUID:
        path = f"/deployments/{claim.deployment_id}/alerts"
        return self._post(path, request_body(claim), claim.alert_id)

    def report_faces_counted(self, report: FacesCounted) -> UUID:
        path = f"/deployments/{report.deployment_id}/faces-counted"
        return self._post(path, request_body(report), report.report_id)

    def send_heartbeat(self, report: HeartbeatReport) -> bool:
        """One attempt, no idempotency key: a heartbeat lost is replaced by the next one."""
        path = f"/deployments/{report.deployment_id}/heartbeat"
        answer = self.api.request("POST", path, body=request_body(latest_gaps(report)))
        return bool(answer.get("reporting_recorded", False))

    def _post(self, path: str, body: dict[str, Any], key: UUID) -> UUID:
        return UUID(str(self.api.request("POST", path, body=body, idempotency_key=key)["id"]))

    def close(self) -> None:
        self.api.close()


def _refusal(response: httpx.Response) -> Exception:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    kind = str(problem.get("type", "")).rsplit(":", 1)[-1]
    detail = str(problem.get("detail") or problem.get("title") or response.text[:200])
    error_cls = error_of_kind(kind)
    if error_cls is None:
        return SinkUnavailable(f"HTTP {response.status_code}: {detail}")
    return error_cls(detail)
