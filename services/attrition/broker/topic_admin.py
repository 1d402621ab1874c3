"""Declare attrition's topics with their partition counts before anything is produced.

Auto-created topics get the broker's default partition count (4 on Tansu), which would break
co-partitioning of the totals table with the loss-events topic: so every topic is declared."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from attrition.broker.kafka_security import aiokafka_kwargs
from attrition.settings import Settings


def topic_names(settings: Settings) -> list[str]:
    t = settings.topics
    return [
        t.raw_reports,
        t.raw_articles,
        t.loss_events,
        t.deltas,
        t.current_totals,
        t.alerts,
        t.dead_letters,
    ]


async def ensure_topics(settings: Settings) -> list[str]:
    """Create missing topics; returns the names it created."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, **aiokafka_kwargs(settings.security)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        compacted = {settings.topics.current_totals}
        missing = [
            NewTopic(
                name=name,
                num_partitions=settings.topics.partitions,
                replication_factor=settings.topics.replication_factor,
                topic_configs=({"cleanup.policy": "compact"} if name in compacted else {}),
            )
            for name in topic_names(settings)
            if name not in existing
        ]
        if missing:
            # A worker may have declared them first: fine.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [topic.name for topic in missing]
    finally:
        await admin.close()
