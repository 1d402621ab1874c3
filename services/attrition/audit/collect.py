"""Gather what the audit needs: every message of the raw, loss-event, delta and dead-letter
topics (from the beginning to the true end) and the ids the warehouse holds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import BaseModel, ValidationError

from attrition.audit.ledger import AuditInput, RawMessage, WarehouseView, warehouse_view
from attrition.broker.kafka_security import aiokafka_kwargs
from attrition.broker.tansu_end_offsets import true_end_offsets
from attrition.contracts.batches import decode_delta_batch, decode_loss_batch, decode_single
from attrition.contracts.events import DeadLetter
from attrition.settings import Settings
from attrition.sinks.warehouse import open_warehouse

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
Record = tuple[bytes | None, bytes]


@dataclass(frozen=True)
class Collected:
    data: AuditInput
    undecodable: dict[str, int]
    """Messages per topic that are not the event the topic promises (skipped, and said so)."""


async def _end_offsets(settings: Settings, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    if settings.embedded_broker:
        return await true_end_offsets(settings.bootstrap_servers, tps)
    probe = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=None,
        **aiokafka_kwargs(settings.security),
    )
    await probe.start()
    try:
        return dict(await probe.end_offsets(tps))
    finally:
        await probe.stop()


async def read_whole_topic(
    settings: Settings, topic: str, *, stall_timeout_s: float = 30.0
) -> list[Record]:
    """Every message of a topic, from the beginning to its true end; [] if it does not exist.

    Gives up only when no message arrived for `stall_timeout_s`, so a long topic is read whole."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        **aiokafka_kwargs(settings.security),
    )
    await consumer.start()
    out: list[Record] = []
    try:
        # Asking for the topic by name could auto-create it (with the broker's default
        # partitions); listing every topic does not.
        if topic not in await consumer.topics():
            return out
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        ends = await _end_offsets(settings, tps)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        loop = asyncio.get_running_loop()
        last_progress = loop.time()
        while remaining and loop.time() - last_progress < stall_timeout_s:
            batch = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, records in batch.items():
                if records:
                    last_progress = loop.time()
                out.extend((r.key, r.value) for r in records if r.value is not None)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        if remaining:
            log.warning(
                "%s: stopped reading %d partitions short of their end", topic, len(remaining)
            )
        return out
    finally:
        await consumer.stop()


def _decode(
    decode: Callable[[bytes], list[M]], records: list[Record], skipped: dict[str, int], topic: str
) -> list[M]:
    """Every event of a topic's messages; `skipped` counts the messages that did not decode."""
    decoded: list[M] = []
    for _, value in records:
        try:
            decoded.extend(decode(value))
        except ValidationError:
            skipped[topic] = skipped.get(topic, 0) + 1
    return decoded


async def read_warehouse(url: str) -> WarehouseView:
    async with open_warehouse(url) as warehouse:
        losses: list[dict[str, Any]] = await warehouse.dump("loss_events")
        letters: list[dict[str, Any]] = await warehouse.dump("dead_letters")
        return warehouse_view(
            (row["event_id"] for row in losses),
            await warehouse.delta_ids(current_only=False),
            await warehouse.delta_ids(current_only=True),
            (row["dead_letter_id"] for row in letters),
        )


async def collect(settings: Settings, warehouse_url: str | None = None) -> Collected:
    topics = settings.topics
    raw_topics = [topics.raw_reports, topics.raw_articles]
    names = [*raw_topics, topics.loss_events, topics.deltas, topics.dead_letters]
    read = await asyncio.gather(*(read_whole_topic(settings, name) for name in names))
    by_topic = dict(zip(names, read, strict=True))
    skipped: dict[str, int] = {}
    raw = [
        RawMessage.of(topic, key, value) for topic in raw_topics for key, value in by_topic[topic]
    ]
    data = AuditInput(
        raw=raw,
        loss_events=_decode(
            decode_loss_batch, by_topic[topics.loss_events], skipped, topics.loss_events
        ),
        dead_letters=_decode(
            decode_single(DeadLetter), by_topic[topics.dead_letters], skipped, topics.dead_letters
        ),
        deltas=_decode(decode_delta_batch, by_topic[topics.deltas], skipped, topics.deltas),
        warehouse=await read_warehouse(warehouse_url or settings.warehouse),
    )
    return Collected(data, skipped)
