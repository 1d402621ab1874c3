"""Every record of a topic, from its beginning to its true end: what the audit reads, and what
`attrition state` reads of a table's changelog."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from attrition.broker.consumer_progress import end_offsets
from attrition.broker.kafka_security import aiokafka_kwargs
from attrition.settings import Settings

log = logging.getLogger(__name__)


def groupless_consumer(settings: Settings, **extra: Any) -> AIOKafkaConsumer:
    """A consumer of no group that commits nothing: a reader of topics, not a stage."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        **extra,
        **aiokafka_kwargs(settings.security),
    )


async def read_records(
    settings: Settings,
    topic: str,
    *,
    upto: Mapping[int, int] | None = None,
    stall_timeout_s: float = 30.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of `topic` in each partition's order, tombstones included; [] if the topic
    does not exist. With `upto` ({partition: offset}), only those partitions, each up to (not
    including) its offset. Gives up only when no record arrived for `stall_timeout_s`, so a
    long topic is read whole."""
    consumer = groupless_consumer(settings)
    await consumer.start()
    out: list[ConsumerRecord[bytes, bytes]] = []
    try:
        # Asking for the topic by name could auto-create it (with the broker's default
        # partitions); listing every topic does not.
        if topic not in await consumer.topics():
            return out
        partitions = consumer.partitions_for_topic(topic) or set()
        if upto is not None:
            partitions = partitions & set(upto)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return out
        ends = await end_offsets(settings, consumer, tps)
        if upto is not None:
            ends = {tp: min(end, upto[tp.partition]) for tp, end in ends.items()}
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
                out.extend(r for r in records if r.offset < ends[tp])
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        if remaining:
            log.warning(
                "%s: stopped reading %d partitions short of their end", topic, len(remaining)
            )
        return out
    finally:
        await consumer.stop()


async def partition_count(settings: Settings, topic: str) -> int | None:
    """How many partitions `topic` has; None if it does not exist (and it is not created)."""
    consumer = groupless_consumer(settings)
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            return None
        return len(consumer.partitions_for_topic(topic) or ()) or None
    finally:
        await consumer.stop()
