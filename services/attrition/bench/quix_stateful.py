"""(4b) Quix Streams (the optional `bench` extra) keeping a per-key running sum of the loss
events' stated deltas and emitting each new total: the stateful speed to match.

The app runs in a child process; its topics are created beforehand with an explicit
`retention.ms`, which Quix's stateful apps require of this broker."""

from __future__ import annotations

import importlib.util
import os
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

_ENV = "ATTRITION_BENCH_QUIX"


def quix_missing() -> str | None:
    """Why Quix cannot be measured here, or None when it can."""
    if importlib.util.find_spec("quixstreams") is None:
        return "quixstreams is not installed (pip install quixstreams, the `bench` extra)"
    return None


def _child_main() -> None:
    from quixstreams import Application
    from quixstreams.models import TopicConfig

    bootstrap, source, sink, group, state_dir, partitions = os.environ[_ENV].split("|")
    config = TopicConfig(
        num_partitions=int(partitions),
        replication_factor=1,
        extra_config={"retention.ms": "604800000"},
    )
    app = Application(
        broker_address=bootstrap,
        consumer_group=group,
        auto_offset_reset="earliest",
        state_dir=state_dir,
        loglevel="WARNING",
    )
    inbox = app.topic(source, value_deserializer="json", key_deserializer="bytes", config=config)
    outbox = app.topic(sink, value_serializer="json", key_serializer="bytes", config=config)

    def running_sum(value: dict[str, Any], state: Any) -> dict[str, Any]:
        total = int(state.get("total", 0)) + int(value.get("delta") or 0)
        state.set("total", total)
        return {"total": total, "as_of": value.get("as_of")}

    app.dataframe(inbox).apply(running_sum, stateful=True).to_topic(outbox)
    app.run()


async def measure_quix_stateful(
    ctx: BenchContext, messages: list[tuple[bytes, bytes]], timeout_s: float = 180.0
) -> float:
    prefix = ctx.name("quix")
    source, sink = f"{prefix}.a", f"{prefix}.b"
    await create_topics(ctx, [source, sink])
    env = dict(os.environ)
    env[_ENV] = "|".join(
        [ctx.bootstrap, source, sink, prefix, str(ctx.workdir / prefix), str(ctx.partitions)]
    )
    child = ChildProcess(
        ["-m", "attrition.bench.quix_stateful"], ctx.workdir / f"{prefix}.log", env
    ).start()
    watcher = await OutputWatcher(ctx.bootstrap, sink, ctx.partitions).start()
    try:
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
