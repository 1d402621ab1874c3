"""Parse stage wiring: raw reports and articles in, loss events (or dead letters) out.

Raw documents are taken in batches; the loss events of a batch leave as one message per
partition of the loss-events topic (contracts/batches.py, stream/key_partitions.py), so a
backfill of many reports, or a report's fifteen figures, cost the stages downstream one message
per partition instead of one per figure or per key."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from attrition.contracts.batches import LossEventBatch, encode_loss_batch
from attrition.contracts.events import LossEvent
from attrition.contracts.wire import headers_for
from attrition.parse.document_parser import process_raw
from attrition.stream.batches import hold, release
from attrition.stream.dead_letters import send_dead_letter
from attrition.stream.fatal import stop_on_failure
from attrition.stream.partition_sends import send_by_partition

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)

_LOSS_HEADERS = headers_for(LossEventBatch)


def register(app: AttritionApp) -> None:
    topics = app.topics_
    settings = app.settings
    limits = settings.limits
    metrics = app.metrics  # type: ignore[attr-defined]
    loss_topic = settings.topics.loss_events

    async def parse_one(payload: bytes, topic: str, key: bytes | None) -> Sequence[LossEvent]:
        started = time.perf_counter()
        outcome = process_raw(
            payload,
            topic=topic,
            key=key,
            max_bytes=limits.max_document_bytes,
            max_line_chars=limits.max_line_chars,
        )
        metrics.parse_seconds.observe(time.perf_counter() - started)
        if outcome.dead_letter is not None:
            letter = outcome.dead_letter
            log.warning(
                "dead letter: %s (%s) from %s", letter.reason.value, letter.detail[:200], topic
            )
            await send_dead_letter(app, letter)
        elif outcome.warnings and outcome.document is not None:
            log.info("%s: %s", outcome.document.id, "; ".join(outcome.warnings)[:500])
        return outcome.events

    @app.agent(topics.raw, name="attrition.parse")
    async def parse_raw(stream: Any) -> None:
        # The loss-events topic is declared by the agents that read it.
        batch: Sequence[Any] = ()
        async with stop_on_failure(app, "attrition.parse", lambda: batch):
            async for batch in stream.take_events(
                settings.stream_batch_size, within=settings.stream_batch_seconds
            ):
                # Held until every loss event of the batch is handed to the producer.
                hold(batch)
                events: list[LossEvent] = []
                for event in batch:
                    message = event.message
                    metrics.events_in.labels(message.topic).inc()
                    value = message.value
                    payload = value if isinstance(value, bytes) else bytes(value)
                    events.extend(await parse_one(payload, message.topic, message.key))
                if events:
                    metrics.events_out.labels(loss_topic).inc(len(events))
                await send_by_partition(app, loss_topic, events, encode_loss_batch, _LOSS_HEADERS)
                release(batch)
