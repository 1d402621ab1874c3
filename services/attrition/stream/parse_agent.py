"""Parse stage wiring: raw reports and articles in, loss events (or dead letters) out."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from attrition.contracts.events import DeadLetter, LossEvent
from attrition.contracts.wire import encode, headers_for
from attrition.parse.document_parser import process_raw

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)

_LOSS_HEADERS = headers_for(LossEvent)
_DEAD_HEADERS = headers_for(DeadLetter)


def register(app: AttritionApp) -> None:
    topics = app.topics_
    limits = app.settings.limits
    metrics = app.metrics  # type: ignore[attr-defined]
    loss_topic = app.settings.topics.loss_events
    dead_topic = app.settings.topics.dead_letters

    async def send_outcome(produce: Any, payload: bytes, topic: str, key: bytes | None) -> None:
        started = time.perf_counter()
        outcome = process_raw(
            payload,
            topic=topic,
            key=key,
            max_bytes=limits.max_document_bytes,
            max_line_chars=limits.max_line_chars,
        )
        metrics.parse_seconds.observe(time.perf_counter() - started)
        if outcome.events:
            metrics.events_out.labels(loss_topic).inc(len(outcome.events))
        # Awaiting the producer waits for room in its buffer, not for delivery; the event is
        # acked when this returns, and Faust flushes the producer before it commits.
        for event in outcome.events:
            await produce(
                loss_topic, event.totals_key.encode(), encode(event), None, None, _LOSS_HEADERS
            )
        if outcome.dead_letter is not None:
            letter = outcome.dead_letter
            metrics.dead_letters.labels(letter.reason.value).inc()
            metrics.events_out.labels(dead_topic).inc()
            log.warning(
                "dead letter: %s (%s) from %s", letter.reason.value, letter.detail[:200], topic
            )
            await topics.dead_letters.send(
                key=(letter.source_id or letter.dead_letter_id).encode(),
                value=encode(letter),
                headers=_DEAD_HEADERS,
            )
        elif outcome.warnings and outcome.document is not None:
            log.info("%s: %s", outcome.document.id, "; ".join(outcome.warnings)[:500])

    @app.agent(topics.raw, name="attrition.parse")
    async def parse_raw(stream: Any) -> None:
        # The producer itself rather than `topic.send`: no FutureMessage per loss event; the
        # loss-events topic is declared by the agents that read it.
        produce = app.producer.send
        async for event in stream.events():
            message = event.message
            metrics.events_in.labels(message.topic).inc()
            payload = message.value if isinstance(message.value, bytes) else bytes(message.value)
            await send_outcome(produce, payload, message.topic, message.key)
