"""(4b) attrition's totals stage alone: loss events published straight to the loss-events topic
(as `attrition backfill` does), the time until the deltas topic holds a delta for every one.

The whole worker runs (the sinks and the alert stage read along, as they would in service), so
this is the totals agent's throughput with its real neighbours sharing the core."""

from __future__ import annotations

import time

from attrition.bench.common import BenchContext, OutputWatcher, rate
from attrition.bench.load import EVENTS_PER_REPORT, loss_events, reports_for_events
from attrition.bench.worker import worker_settings
from attrition.ingest.publisher import publish_loss_events
from attrition.stream.worker_process import WorkerProcess


async def measure_totals_stage(ctx: BenchContext, events: int, timeout_s: float = 240.0) -> float:
    settings = worker_settings(ctx, "totals")
    losses = list(loss_events(reports_for_events(events + EVENTS_PER_REPORT, id_prefix="totals")))
    warm, timed = losses[:EVENTS_PER_REPORT], losses[EVENTS_PER_REPORT:]
    worker = WorkerProcess(settings, log_path=ctx.workdir / f"{settings.app_id}.log").start()
    watcher = await OutputWatcher(
        settings.bootstrap_servers, settings.topics.deltas, ctx.partitions
    ).start()
    try:
        # Each event is the next day of its key: exactly one delta each.
        await publish_loss_events(warm, settings)
        await watcher.wait_for(len(warm), timeout_s, worker.alive)
        started = time.perf_counter()
        await publish_loss_events(timed, settings)
        await watcher.wait_for(len(losses), timeout_s, worker.alive)
        return rate(len(timed), started, watcher.last_at)
    finally:
        await watcher.stop()
        worker.stop()
