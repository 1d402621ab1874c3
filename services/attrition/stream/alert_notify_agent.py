"""Alert delivery wiring: alerts topic in, the log and (when configured) a webhook out.

A webhook that keeps failing costs a logged error per alert, never the pipeline: the alert is
already on its topic and in the warehouse."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import ValidationError

from attrition.contracts.events import AlertEvent
from attrition.sinks.alert_webhook import WebhookFailed, WebhookTarget, post_alert

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger("attrition.alerts")


def webhook_target(app: AttritionApp) -> WebhookTarget | None:
    alerts = app.settings.alerts
    if not alerts.webhook_url:
        return None
    return WebhookTarget(
        url=alerts.webhook_url,
        token=alerts.webhook_token.get_secret_value() if alerts.webhook_token else None,
        timeout_s=alerts.webhook_timeout_s,
        retries=alerts.webhook_retries,
        min_severity=alerts.webhook_min_severity,
    )


def register(app: AttritionApp) -> None:
    target = webhook_target(app)
    if target is None and not app.settings.alerts.log_alerts:
        return
    log_alerts = app.settings.alerts.log_alerts

    @app.agent(app.topics_.alerts, name="attrition.alerts.notify")
    async def notify(stream: Any) -> None:
        async with httpx.AsyncClient() as client:
            async for value in stream:
                try:
                    alert = AlertEvent.model_validate_json(value)
                except ValidationError as exc:
                    log.error("undecodable alert skipped: %s", exc)
                    continue
                if log_alerts:
                    log.warning(
                        "%s alert: %s",
                        alert.kind.value,
                        alert.explanation,
                        extra={"alert_id": alert.alert_id, "severity": alert.severity.value},
                    )
                if target is not None and target.wants(alert):
                    try:
                        await post_alert(client, target, alert)
                    except WebhookFailed as exc:
                        log.error("%s", exc, extra={"alert_id": alert.alert_id})
