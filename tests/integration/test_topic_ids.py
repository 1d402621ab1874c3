"""broker/topic_ids.py against the real broker: ids stay while the broker runs, a recreated
topic gets a new one, and asking never creates a topic."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from aiokafka.client import AIOKafkaClient

from attrition.broker.consumer_progress import consumed_topics
from attrition.broker.embedded_broker import EmbeddedBroker
from attrition.broker.topic_admin import ensure_topics, topic_names
from attrition.broker.topic_ids import topic_ids
from attrition.stream.broker_watch import input_topic_ids
from isolated_settings import isolated_settings

pytestmark = pytest.mark.integration


async def ask(bootstrap: str, topics: list[str]) -> dict[str, uuid.UUID | None] | None:
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        return await topic_ids(client, topics)
    finally:
        await client.close()


async def test_ids_hold_while_the_broker_runs_and_change_when_it_restarts_empty(
    tmp_path: Path,
) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "tansu.log").start()
    try:
        settings = isolated_settings(broker.url, tmp_path)
        names = topic_names(settings)
        await ensure_topics(settings)
        asked = [*names, "never.created"]

        first = await ask(broker.bootstrap, asked)
        assert first is not None
        assert first["never.created"] is None
        assert all(isinstance(first[name], uuid.UUID) for name in names)
        assert len({first[name] for name in names}) == len(names)
        # Asked again: the same ids, and the question created nothing.
        assert await ask(broker.bootstrap, asked) == first
        # What a worker takes at its start: the ids of the topics it reads.
        at_start = await input_topic_ids(settings)
        assert at_start == {topic: first[topic] for topic in consumed_topics(settings)}

        broker.stop()
        broker.start()
        gone = await ask(broker.bootstrap, names)
        assert gone == dict.fromkeys(names)
        await ensure_topics(settings)
        again = await ask(broker.bootstrap, names)
        assert again is not None
        assert all(again[name] not in (None, first[name]) for name in names)
    finally:
        broker.stop()
    # No broker to ask: no ids, and the worker starts all the same.
    assert await input_topic_ids(settings) == {}
