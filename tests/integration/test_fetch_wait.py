"""The adaptive fetch wait of embedded mode (broker/tansu_fetch_wait.py), against the real broker:
Tansu answers a waiting fetch only at its deadline, and an empty fetch costs it work for every
partition named, so an idle consumer should ask seldom and a busy one often."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from attrition.broker.tansu_fetch_wait import (
    EMBEDDED_FETCH_WAIT_MS,
    IDLE_FETCH_WAIT_MS,
    start_with_adaptive_wait,
)
from attrition.broker.topic_admin import ensure_topics
from attrition.broker.topic_reader import groupless_consumer
from attrition.settings import Settings
from attrition.stream.delta_stream import deltas_reader

IDLE_SECONDS = 2.0


def _count_fetches(consumer: AIOKafkaConsumer) -> list[tuple[bool, int]]:
    """Each fetch's outcome as it completes: whether it brought records, and the wait the
    consumer's next fetch asks for."""
    fetcher: Any = consumer._fetcher
    process = fetcher._proc_fetch_request
    seen: list[tuple[bool, int]] = []

    async def counted(assignment: Any, node_id: int, request: Any) -> bool:
        brought = bool(await process(assignment, node_id, request))
        seen.append((brought, fetcher._fetch_max_wait_ms))
        return brought

    fetcher._proc_fetch_request = counted
    return seen


async def _reading(settings: Settings, adaptive: bool) -> tuple[AIOKafkaConsumer, list[Any]]:
    topic = settings.topics.loss_events
    extra = {} if adaptive else {"fetch_max_wait_ms": EMBEDDED_FETCH_WAIT_MS}
    consumer = groupless_consumer(settings, **extra)
    if adaptive:
        start_with_adaptive_wait(consumer)
    await consumer.start()
    tps = [TopicPartition(topic, p) for p in range(settings.topics.partitions)]
    consumer.assign(tps)
    await consumer.seek_to_end(*tps)
    return consumer, _count_fetches(consumer)


async def _idle_fetches(consumer: AIOKafkaConsumer, seen: list[Any]) -> int:
    await consumer.getmany(timeout_ms=300)  # the positions are resolved and fetching has begun
    before = len(seen)
    await asyncio.sleep(IDLE_SECONDS)
    return len(seen) - before


async def test_an_idle_consumer_fetches_seldom_and_a_record_brings_the_short_wait_back(
    pipeline_settings: Settings,
) -> None:
    await ensure_topics(pipeline_settings)
    fixed, fixed_seen = await _reading(pipeline_settings, adaptive=False)
    try:
        every_25_ms = await _idle_fetches(fixed, fixed_seen)
    finally:
        await fixed.stop()

    consumer, seen = await _reading(pipeline_settings, adaptive=True)
    producer = AIOKafkaProducer(bootstrap_servers=pipeline_settings.bootstrap_servers)
    await producer.start()
    try:
        adaptive = await _idle_fetches(consumer, seen)
        print(f"idle fetches in {IDLE_SECONDS} s: fixed {every_25_ms}, adaptive {adaptive}")
        assert consumer._fetcher._fetch_max_wait_ms == IDLE_FETCH_WAIT_MS  # type: ignore[attr-defined]
        # Tansu answers an empty fetch at its deadline: 25 ms against up to 100 ms.
        assert adaptive * 2 < every_25_ms, (adaptive, every_25_ms)

        await producer.send_and_wait(pipeline_settings.topics.loss_events, b"x", partition=1)
        sent = time.monotonic()
        got: dict[Any, Any] = {}
        while not got:
            got = await consumer.getmany(timeout_ms=5000)
        waited = time.monotonic() - sent
        print(f"record read {waited * 1000:.0f} ms after it was acked")
        # At most one idle wait, with room for a slow machine.
        assert waited < IDLE_FETCH_WAIT_MS / 1000 + 1.0
        brought = [wait for records, wait in seen if records]
        assert brought == [EMBEDDED_FETCH_WAIT_MS]
    finally:
        await producer.stop()
        await consumer.stop()


def _worker_consumer(settings: Settings) -> AIOKafkaConsumer:
    from attrition.stream.app import create_app

    app = create_app(settings)
    # What Faust's consumer thread builds and starts for the worker.
    return app.consumer._thread._create_worker_consumer(app.transport)  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("build", [_worker_consumer, deltas_reader], ids=["worker", "delta-stream"])
async def test_the_consumers_of_an_embedded_worker_adapt_their_wait(
    pipeline_settings: Settings, build: Callable[[Settings], AIOKafkaConsumer]
) -> None:
    await ensure_topics(pipeline_settings)
    consumer = build(pipeline_settings)
    await consumer.start()
    try:
        tp = TopicPartition(pipeline_settings.topics.loss_events, 0)
        consumer.assign([tp])
        await consumer.seek_to_end(tp)
        await consumer.getmany(timeout_ms=300)
        await asyncio.sleep(1.0)
        assert consumer._fetcher._fetch_max_wait_ms == IDLE_FETCH_WAIT_MS  # type: ignore[attr-defined]
    finally:
        await consumer.stop()
