"""How far the worker's consumer group has got: committed offsets against true end offsets.

`attrition run --until-idle` and the integration tests use it to know that everything
published has passed every stage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition

from attrition.broker.kafka_security import aiokafka_kwargs
from attrition.broker.tansu_end_offsets import true_end_offsets
from attrition.settings import Settings


def consumed_topics(settings: Settings) -> list[str]:
    """The topics the worker's stages read, in pipeline order."""
    t = settings.topics
    ordered = [t.raw_reports, t.raw_articles, t.loss_events, t.deltas, t.alerts, t.dead_letters]
    wanted = {topic for stage in settings.stages for topic in settings.topics_read_by(stage)}
    return [topic for topic in ordered if topic in wanted]


async def end_offsets(
    settings: Settings, consumer: AIOKafkaConsumer, tps: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """Each partition's end offset: the consumer's answer on Apache Kafka, read from fetch
    responses on the embedded broker (broker/tansu_end_offsets.py)."""
    if settings.embedded_broker:
        return await true_end_offsets(settings.bootstrap_servers, tps)
    found: dict[TopicPartition, int] = await consumer.end_offsets(tps)
    return found


@asynccontextmanager
async def group_consumer(settings: Settings) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer in the workers' group (`settings.group_id`) that reads its commits and
    commits nothing itself."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=settings.group_id,
        enable_auto_commit=False,
        **aiokafka_kwargs(settings.security),
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def committed_offset(settings: Settings, topic: str, partition: int) -> int:
    """The offset the workers' group has committed on a partition; 0 when it has none."""
    async with group_consumer(settings) as consumer:
        return await consumer.committed(TopicPartition(topic, partition)) or 0


async def group_lag(settings: Settings) -> dict[TopicPartition, int]:
    """Messages not yet committed by the worker's group, per partition (0 = caught up)."""
    tps = [
        TopicPartition(topic, p)
        for topic in consumed_topics(settings)
        for p in range(settings.topics.partitions)
    ]
    async with group_consumer(settings) as consumer:
        ends = await end_offsets(settings, consumer, tps)
        lag = {}
        for tp in tps:
            committed = await consumer.committed(tp)
            lag[tp] = max(ends[tp] - (committed or 0), 0)
        return lag
