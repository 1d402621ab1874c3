"""Publish raw documents to the raw topics with aiokafka: batched, acks=all, keyed by id.

Re-publishing a document is harmless: its id and its loss events' ids are deterministic, and
the totals stage ignores a figure it already holds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer

from attrition.broker.kafka_security import aiokafka_kwargs
from attrition.broker.topic_admin import ensure_topics
from attrition.contracts.batches import (
    DeltaBatch,
    LossEventBatch,
    encode_delta_batch,
    encode_loss_batch,
    payloads,
)
from attrition.contracts.events import DeltaEvent, LossEvent, RawDocument
from attrition.contracts.vocabulary import DocumentKind
from attrition.contracts.wire import headers_for
from attrition.ingest.document_files import OutgoingMessage
from attrition.settings import Settings

_RAW_HEADERS = headers_for(RawDocument)


@dataclass
class PublishSummary:
    sent: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"sent {self.sent}, duplicates {self.duplicates}, rejected {self.rejected}"


def make_producer(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",  # acks=0 breaks Tansu connections; all is what we want anyway
        linger_ms=10,
        max_batch_size=256 * 1024,
        max_request_size=max(settings.limits.max_document_bytes * 2, 1_048_576),
        **aiokafka_kwargs(settings.security),
    )


async def publish(
    messages: Iterable[OutgoingMessage],
    settings: Settings,
    on_progress: Callable[[PublishSummary], None] | None = None,
) -> PublishSummary:
    """Send every message to its raw topic; duplicates within this run are counted, not sent."""
    await ensure_topics(settings)
    producer = make_producer(settings)
    await producer.start()
    summary = PublishSummary()
    seen: set[bytes] = set()
    pending = []
    try:
        for message in messages:
            fingerprint = message.key + b"\x00" + message.value
            if fingerprint in seen:
                summary.duplicates += 1
                continue
            seen.add(fingerprint)
            topic = (
                settings.topics.raw_articles
                if message.kind is DocumentKind.article
                else settings.topics.raw_reports
            )
            pending.append(
                await producer.send(
                    topic, value=message.value, key=message.key, headers=_RAW_HEADERS
                )
            )
            summary.sent += 1
            if on_progress is not None:
                on_progress(summary)
        for future in pending:
            await future
    finally:
        await producer.stop()
    return summary


async def publish_loss_events(
    events: Iterable[LossEvent],
    settings: Settings,
    on_progress: Callable[[PublishSummary], None] | None = None,
    *,
    declare_topics: bool = True,
) -> PublishSummary:
    """Put already-structured figures (a backfill) straight onto the loss-events topic.

    They take the same path from there on as parsed figures: totals, deltas, alerts, sinks.
    Each key's figures leave in order, `wire_batch_max_events` to a message
    (contracts/batches.py); a key's partial batch waits for more until the input ends.
    `declare_topics=False` skips creating missing topics (the caller knows they exist)."""
    if declare_topics:
        await ensure_topics(settings)
    producer = make_producer(settings)
    await producer.start()
    summary = PublishSummary()
    headers = headers_for(LossEventBatch)
    limit = settings.wire_batch_max_events
    waiting: dict[str, list[LossEvent]] = {}

    async def send(key: str, batch: list[LossEvent]) -> None:
        for payload in payloads(batch, encode_loss_batch, limit, settings.wire_batch_max_bytes):
            await producer.send(
                settings.topics.loss_events, value=payload, key=key.encode(), headers=headers
            )
        summary.sent += len(batch)
        if on_progress is not None:
            on_progress(summary)

    try:
        for event in events:
            key = event.totals_key
            batch = waiting.setdefault(key, [])
            batch.append(event)
            if len(batch) >= limit:
                await send(key, waiting.pop(key))
        for key, batch in waiting.items():
            await send(key, batch)
        await producer.flush()
    finally:
        await producer.stop()
    if on_progress is not None:
        on_progress(summary)
    return summary


async def publish_deltas(key: str, deltas: list[DeltaEvent], settings: Settings) -> int:
    """Put one key's deltas on the deltas topic, in order, in messages of that key's deltas
    only (contracts/batches.py; `attrition state rebuild` sends the deltas a rebuilt ledger
    brings back)."""
    producer = make_producer(settings)
    await producer.start()
    headers = headers_for(DeltaBatch)
    limit, max_bytes = settings.wire_batch_max_events, settings.wire_batch_max_bytes
    try:
        for payload in payloads(deltas, encode_delta_batch, limit, max_bytes):
            await producer.send(
                settings.topics.deltas, value=payload, key=key.encode(), headers=headers
            )
        await producer.flush()
    finally:
        await producer.stop()
    return len(deltas)
