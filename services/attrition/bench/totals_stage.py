"""(4b) attrition's totals stage: loss events published straight to the loss-events topic (as
`attrition backfill` does), the time until the deltas topic holds a delta for every one.

The worker runs the totals stage only (`ATTRITION_STAGES=["totals"]`), as the Quix reference
runs its running sum only: both read loss events and write each key's new totals, with the
state's changelog. The whole pipeline in one worker is row (5)."""

from __future__ import annotations

import time

from attrition.bench.common import BenchContext, OutputWatcher, rate
from attrition.bench.load import events_in, loss_events, series_holding
from attrition.bench.worker import worker_settings
from attrition.ingest.publisher import publish_loss_events
from attrition.stream.worker_process import WorkerProcess


async def measure_totals_stage(ctx: BenchContext, events: int, timeout_s: float = 240.0) -> float:
    settings = worker_settings(ctx, "totals").model_copy(update={"stages": frozenset({"totals"})})
    reports = series_holding(events, id_prefix="totals")
    losses = list(loss_events(reports))
    # The first report's figures warm the worker up; the timed events are the rest.
    first = events_in(reports[:1])
    warm, timed = losses[:first], losses[first:]
    worker = WorkerProcess(settings, log_path=ctx.workdir / f"{settings.app_id}.log").start()
    watcher = await OutputWatcher(
        settings.bootstrap_servers, settings.topics.deltas, ctx.partitions, framed=True
    ).start()
    try:
        # Each event is the next day of its key: exactly one delta each.
        await publish_loss_events(warm, settings)
        await watcher.wait_for(len(warm), timeout_s, worker.alive)
        started = time.perf_counter()
        # The warm-up declared the topics; the Quix and Faust rows time no declaring either.
        await publish_loss_events(timed, settings, declare_topics=False)
        await watcher.wait_for(len(losses), timeout_s, worker.alive)
        return rate(len(timed), started, watcher.last_at)
    finally:
        await watcher.stop()
        worker.stop()
