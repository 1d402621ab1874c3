"""(3) The reference: a stock Faust agent that forwards each event from topic A to topic B.

A tiny faust.App of its own in a child process, with Faust's default producer and consumer
settings; only the group timings are shortened so that it joins in seconds, not 30."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from attrition.bench.common import (
    BenchContext,
    ChildProcess,
    OutputWatcher,
    create_topics,
    produce,
    rate,
)

_ENV = "ATTRITION_BENCH_PASSTHROUGH"


def _child_main() -> None:
    import faust

    broker, source, sink, group, datadir, web_port = os.environ[_ENV].split("|")
    app = faust.App(
        group,
        broker=broker,
        datadir=datadir,
        autodiscover=False,
        broker_session_timeout=6.0,
        broker_heartbeat_interval=1.0,
        broker_rebalance_timeout=6.0,
        consumer_auto_offset_reset="earliest",
        web_port=int(web_port),
        web_enabled=False,
    )
    inbox = app.topic(source, key_serializer="raw", value_serializer="raw")
    outbox = app.topic(sink, key_serializer="raw", value_serializer="raw")

    @app.agent(inbox)
    async def forward(stream: Any) -> None:
        async for event in stream.events():
            await outbox.send(key=event.key, value=event.value)

    sys.argv = [sys.argv[0], "worker", "-l", "warn"]
    app.main()


async def measure_faust_passthrough(
    ctx: BenchContext, messages: list[tuple[bytes, bytes]], timeout_s: float = 180.0
) -> float:
    """Events per second forwarded, from the start of publishing to the last one out."""
    from attrition.broker.embedded_broker import free_port

    prefix = ctx.name("faust")
    source, sink = f"{prefix}.a", f"{prefix}.b"
    await create_topics(ctx, [source, sink])
    env = dict(os.environ)
    env[_ENV] = "|".join(
        [ctx.url, source, sink, prefix, str(ctx.workdir / prefix), str(free_port())]
    )
    child = ChildProcess(
        ["-m", "attrition.bench.faust_passthrough"], ctx.workdir / f"{prefix}.log", env
    ).start()
    watcher = await OutputWatcher(ctx.bootstrap, sink, ctx.partitions).start()
    try:
        # One message first: the group join and first fetch are not what is measured.
        await produce(ctx.bootstrap, source, messages[:1])
        await watcher.wait_for(1, timeout_s, child.alive)
        started = time.perf_counter()
        await produce(ctx.bootstrap, source, messages[1:])
        await watcher.wait_for(len(messages), timeout_s, child.alive)
        return rate(len(messages) - 1, started, watcher.last_at)
    finally:
        await watcher.stop()
        child.stop()


if __name__ == "__main__":
    _child_main()
