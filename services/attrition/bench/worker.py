"""An attrition worker for one measurement: topics and group of its own on the bench broker,
run as `attrition worker` in a child process exactly as `attrition run` runs it."""

from __future__ import annotations

import asyncio
import time

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from attrition.bench.common import BenchContext
from attrition.broker.embedded_broker import free_port
from attrition.broker.kafka_security import aiokafka_kwargs
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
    settings: Settings, topics: list[str], timeout_s: float, interval_s: float = 0.01
) -> float:
    """When the worker's group has committed every message now on `topics`: Faust commits an
    offset only once every agent reading it has acked it, and a sink acks after its write, so
    this is when the warehouse holds them. Returns that moment (perf_counter).

    The moment is known to within `interval_s`, and the pipeline row's time is taken from it:
    the group's offsets are read in one request per look (an admin client's OffsetFetch for
    all the partitions; a consumer's `committed` asks for one partition at a time), so looking
    every 10 ms costs next to nothing. At one look every 50 ms, a row of 1.4 s was timed 25 ms
    long on average."""
    tps = [TopicPartition(t, p) for t in topics for p in range(settings.topics.partitions)]
    ends = await true_end_offsets(settings.bootstrap_servers, tps)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, **aiokafka_kwargs(settings.security)
    )
    await admin.start()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            # The partitions are always named: the embedded broker's answer for "all of the
            # group's partitions" does not decode.
            found = await admin.list_consumer_group_offsets(settings.group_id, partitions=tps)
            # -1, or no entry: nothing committed there yet, which is caught up on an empty one.
            committed = {tp: max(found[tp].offset, 0) for tp in found}
            if all(committed.get(tp, 0) >= ends[tp] for tp in tps):
                return time.perf_counter()
            await asyncio.sleep(interval_s)
        raise TimeoutError(f"group {settings.group_id} not committed after {timeout_s:.0f}s")
    finally:
        await admin.close()
