"""Alert stage wiring: deltas in, spike and data-quality alerts out.

The deltas topic is keyed like the loss events (claimant/subject/category), so one table entry
per key holds that series' detector state on the worker that owns the partition."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from attrition.alerts.spike_detector import SpikeDetector
from attrition.contracts.events import AlertEvent, DeltaEvent
from attrition.contracts.wire import encode, headers_for

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)

_ALERT_HEADERS = headers_for(AlertEvent)


def register(app: AttritionApp) -> None:
    topics = app.topics_
    metrics = app.metrics  # type: ignore[attr-defined]
    names = app.settings.topics
    detector = SpikeDetector(app.settings.alerts)
    states = app.Table(
        "spike-detector",
        default=None,
        partitions=app.settings.topics.partitions,
        key_type=bytes,  # bytes: the raw serializer; the pure core owns the state encoding
        value_type=bytes,
    )

    @app.agent(topics.deltas, name="attrition.alerts")
    async def raise_alerts(stream: Any) -> None:
        async for event in stream.events():
            metrics.events_in.labels(names.deltas).inc()
            key_bytes: bytes = event.message.key
            try:
                delta = DeltaEvent.model_validate_json(event.message.value)
            except ValidationError as exc:
                log.error("undecodable delta on key %r skipped: %s", key_bytes, exc)
                continue
            key = key_bytes.decode()
            stored = states.get(key_bytes)
            detector.load_key_state(key, orjson.loads(stored) if stored else None)
            alerts = detector.observe(delta)
            states[key_bytes] = orjson.dumps(detector.key_state(key))
            detector.load_key_state(key, None)  # the table is the state; keep memory bounded
            for alert in alerts:
                log.info("alert: %s", alert.explanation)
                metrics.alerts.labels(alert.kind.value, alert.severity.value).inc()
                metrics.events_out.labels(names.alerts).inc()
                await topics.alerts.send(key=key_bytes, value=encode(alert), headers=_ALERT_HEADERS)
