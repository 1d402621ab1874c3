"""An attrition worker for one measurement: topics and group of its own on the bench broker,
run as `attrition worker` in a child process exactly as `attrition run` runs it."""

from __future__ import annotations

import asyncio
import time

from aiokafka import TopicPartition

from attrition.bench.common import BenchContext
from attrition.broker.consumer_progress import group_consumer
from attrition.broker.embedded_broker import free_port
from attrition.broker.tansu_end_offsets import true_end_offsets
from attrition.settings import Settings, TopicSettings


def worker_settings(ctx: BenchContext, stage: str) -> Settings:
    prefix = ctx.name(stage)
    return Settings(
        broker=ctx.url,
        embedded_broker=True,
        app_id=f"attrition-{prefix}",
        data_dir=str(ctx.workdir / prefix / "data"),
        warehouse="duckdb:///" + str(ctx.workdir / prefix / "warehouse.duckdb"),
        web_port=free_port(),
        topics=TopicSettings.prefixed(prefix, ctx.partitions),
    )


async def wait_committed(
    settings: Settings, topics: list[str], timeout_s: float, interval_s: float = 0.05
) -> float:
    """When the worker's group has committed every message now on `topics`: Faust commits an
    offset only once every agent reading it has acked it, and a sink acks after its write, so
    this is when the warehouse holds them. Returns that moment (perf_counter)."""
    tps = [TopicPartition(t, p) for t in topics for p in range(settings.topics.partitions)]
    ends = await true_end_offsets(settings.bootstrap_servers, tps)
    async with group_consumer(settings) as consumer:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            behind = [tp for tp in tps if ((await consumer.committed(tp)) or 0) < ends[tp]]
            if not behind:
                return time.perf_counter()
            await asyncio.sleep(interval_s)
        raise TimeoutError(f"group {settings.group_id} not committed after {timeout_s:.0f}s")
