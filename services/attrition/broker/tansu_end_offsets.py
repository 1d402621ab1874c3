"""Correct end offsets for the embedded Tansu broker.

Tansu answers ListOffsets(latest) with the first offset of a partition's last record batch + 1
instead of the last offset + 1 (a batch at offsets 2-6 reports 3). Fetch responses carry the right
high watermark, so we fetch at the reported offset − 1 and read it from there (about 10 ms a
partition). Faust's table recovery asks for end offsets through `_highwaters`; without this it
restores stale values (memory store) or refuses to start (rocksdb). Apache Kafka needs none of
this, so it is installed only when attrition runs against the embedded broker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

_installed = False


async def true_end_offsets(
    bootstrap: str,
    partitions: Iterable[TopicPartition],
    timeout_s: float = 5.0,
    *,
    answered_only: bool = False,
) -> dict[TopicPartition, int]:
    """The real end offset (last offset + 1) of each partition, read from fetch responses.
    A partition whose fetch got no answer within `timeout_s` gets the reported offset, the
    best there is, or (`answered_only`) is left out."""
    tps = list(partitions)
    if not tps:
        return {}
    probe = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        fetch_max_bytes=1 << 20,
        max_partition_fetch_bytes=1 << 16,
    )
    await probe.start()
    try:
        probe.assign(tps)
        reported = await probe.end_offsets(tps)
        result: dict[TopicPartition, int] = {}
        pending = []
        for tp in tps:
            if reported[tp] <= 0:
                result[tp] = 0
            else:
                probe.seek(tp, reported[tp] - 1)
                pending.append(tp)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while pending and asyncio.get_running_loop().time() < deadline:
            await probe.getmany(*pending, timeout_ms=200)
            still = []
            for tp in pending:
                hw = probe.highwater(tp)
                if hw is None:
                    still.append(tp)
                else:
                    result[tp] = max(hw, reported[tp])
            pending = still
        for tp in pending:
            if not answered_only:
                result[tp] = reported[tp]
        return result
    finally:
        await probe.stop()


def install_faust_end_offset_fix(bootstrap: str) -> None:
    """Route Faust's end-offset look-ups through `true_end_offsets` (embedded mode only)."""
    global _installed
    if _installed:
        return
    from faust.transport.drivers import aiokafka as driver

    original = driver.AIOKafkaConsumerThread._highwaters

    async def _highwaters(self: Any, partitions: list[Any]) -> Mapping[Any, int]:
        if self.consumer.in_transaction:
            return await original(self, partitions)
        # Faust's TP is its own namedtuple; aiokafka insists on its TopicPartition.
        probed = await true_end_offsets(
            bootstrap, [TopicPartition(tp.topic, tp.partition) for tp in partitions]
        )
        return {tp: probed[TopicPartition(tp.topic, tp.partition)] for tp in partitions}

    driver.AIOKafkaConsumerThread._highwaters = _highwaters  # type: ignore[method-assign]
    _installed = True
