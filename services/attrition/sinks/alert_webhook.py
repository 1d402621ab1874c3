"""Deliver alerts to a team's webhook: POST the AlertEvent JSON, with a timeout per attempt and
retries with exponential backoff. The alert_id goes along as Idempotency-Key, because a retry
after a lost answer, or the pipeline's at-least-once redelivery, may post an alert twice."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx

from attrition.contracts.events import AlertEvent
from attrition.contracts.vocabulary import Severity
from attrition.contracts.wire import encode

log = logging.getLogger(__name__)

_RANK = {Severity.info: 0, Severity.warning: 1, Severity.critical: 2}


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    token: str | None = None
    timeout_s: float = 5.0
    retries: int = 3
    min_severity: Severity = Severity.warning
    backoff_s: float = 0.5

    def wants(self, alert: AlertEvent) -> bool:
        return _RANK[alert.severity] >= _RANK[self.min_severity]


class WebhookFailed(RuntimeError):
    """Every attempt failed; the message says how the last one ended."""


async def post_alert(client: httpx.AsyncClient, target: WebhookTarget, alert: AlertEvent) -> int:
    """POST one alert; returns the attempts it took. 4xx other than 408/429 is not retried:
    the receiver refused this alert and would refuse it again."""
    headers = {"Content-Type": "application/json", "Idempotency-Key": alert.alert_id}
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    body = encode(alert)
    last = "no attempt"
    for attempt in range(1, target.retries + 2):
        try:
            response = await client.post(
                target.url, content=body, headers=headers, timeout=target.timeout_s
            )
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code < 300:
                return attempt
            last = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code not in (408, 429):
                raise WebhookFailed(f"webhook refused alert {alert.alert_id}: {last}")
        if attempt <= target.retries:
            await asyncio.sleep(target.backoff_s * 2 ** (attempt - 1))
    raise WebhookFailed(f"webhook failed for alert {alert.alert_id} after {attempt} tries: {last}")
