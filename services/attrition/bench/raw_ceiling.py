"""(4) The raw aiokafka ceiling: produce N messages and consume them back, in one process, with
no stream framework in between. What any Python stage on this broker can at best reach."""

from __future__ import annotations

import time

from attrition.bench.common import BenchContext, OutputWatcher, create_topics, produce, rate


async def measure_raw_ceiling(
    ctx: BenchContext, messages: list[tuple[bytes, bytes]], timeout_s: float = 120.0
) -> float:
    topic = ctx.name("raw") + ".a"
    await create_topics(ctx, [topic])
    watcher = await OutputWatcher(ctx.bootstrap, topic, ctx.partitions).start()
    try:
        started = time.perf_counter()
        await produce(ctx.bootstrap, topic, messages)
        await watcher.wait_for(len(messages), timeout_s, lambda: True)
        return rate(len(messages), started, watcher.last_at)
    finally:
        await watcher.stop()
