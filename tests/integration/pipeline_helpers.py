"""Helpers for integration tests through the real broker: publish, read topics back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from attrition.broker.tansu_end_offsets import true_end_offsets
from attrition.contracts.batches import decode_delta_batch, decode_loss_batch
from attrition.contracts.events import DeltaEvent, LossEvent, RawDocument
from attrition.contracts.wire import encode
from attrition.ingest.document_files import OutgoingMessage, classify_line
from attrition.ingest.publisher import PublishSummary, publish
from attrition.settings import Settings
from attrition.stream.worker_process import WorkerProcess, wait_until_idle


def messages_of(docs: Iterable[RawDocument | bytes]) -> list[OutgoingMessage]:
    return [classify_line(d if isinstance(d, bytes) else encode(d)) for d in docs]


async def publish_docs(settings: Settings, docs: Iterable[RawDocument | bytes]) -> PublishSummary:
    return await publish(messages_of(docs), settings)


async def run_until_idle(
    settings: Settings,
    docs: Sequence[RawDocument],
    log: Path,
    publish_with: Callable[[Settings, Sequence[RawDocument]], Awaitable[object]] = publish_docs,
) -> None:
    """A worker started, `docs` published, the pipeline idle, the worker stopped cleanly."""
    worker = WorkerProcess(settings, log_path=log).start()
    try:
        await publish_with(settings, docs)
        await wait_until_idle(settings, timeout_s=240, worker=worker)
    finally:
        assert worker.stop() == 0, log.read_text(errors="replace")[-3000:]


async def read_topic(settings: Settings, topic: str) -> list[tuple[bytes | None, bytes]]:
    """Every message on a topic, from the beginning to its true end."""
    tps = [TopicPartition(topic, p) for p in range(settings.topics.partitions)]
    ends = await true_end_offsets(settings.bootstrap_servers, tps)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None)
    await consumer.start()
    out: list[tuple[bytes | None, bytes]] = []
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        deadline = asyncio.get_running_loop().time() + 30
        while remaining and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                out.extend((r.key, r.value) for r in records)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return out
    finally:
        await consumer.stop()


async def read_loss_events(settings: Settings) -> list[tuple[bytes | None, LossEvent]]:
    """Every loss event on its topic with its message's key (a message holds a batch)."""
    return [
        (key, event)
        for key, value in await read_topic(settings, settings.topics.loss_events)
        for event in decode_loss_batch(value)
    ]


async def read_deltas(settings: Settings) -> list[DeltaEvent]:
    """Every delta on its topic, in each partition's order (a message holds a batch)."""
    return [
        delta
        for _, value in await read_topic(settings, settings.topics.deltas)
        for delta in decode_delta_batch(value)
    ]
