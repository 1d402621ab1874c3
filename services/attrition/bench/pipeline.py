"""(5), (6), (7): the whole worker on raw reports. Throughput end to end (raw reports in, every
delta on its topic and every loss event and delta in the warehouse), then the latency from
publishing a document to its deltas at a steady rate, then the worker's peak memory.

One worker serves all three, on one daily series: the throughput part takes the days up to
yesterday (reports as real ones of their dates, the parser flags none), the steady part the
days after (its figures must be new to the ledgers; the parser flags them as dated in the
future, which changes nothing downstream and costs it nothing that matters at 100 a second).

`layout` runs the pipeline on two workers instead, for the scaling notes: `two` (every stage in
both, one consumer group sharing the partitions), `split` (parse, totals and alerts in one; the
sinks in the other) or `halves` (parse and totals in one; alerts and sinks in the other), each
stage set in its own group."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from attrition.bench.common import BenchContext, OutputWatcher, bench_producer, peak_rss_mb, rate
from attrition.bench.load import events_in, report_series, series_holding
from attrition.bench.worker import wait_committed, worker_settings
from attrition.broker.consumer_progress import consumed_topics
from attrition.broker.embedded_broker import free_port
from attrition.contracts.events import RawDocument
from attrition.contracts.wire import encode, headers_for
from attrition.ingest.document_files import classify_line
from attrition.ingest.publisher import publish
from attrition.settings import Settings
from attrition.stream.worker_process import WorkerProcess


@dataclass(frozen=True)
class PipelineFigures:
    events_per_s: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    worker_peak_rss_mb: float | None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


async def _steady(
    settings: Settings, documents: list[RawDocument], per_second: float
) -> dict[str, float]:
    """Publish one document every 1/per_second seconds; when each was handed to the client."""
    producer = bench_producer(settings.bootstrap_servers)
    headers = headers_for(RawDocument)
    sent: dict[str, float] = {}
    await producer.start()
    try:
        began = time.perf_counter()
        futures = []
        for i, document in enumerate(documents):
            delay = began + i / per_second - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            message = classify_line(encode(document))
            sent[document.id] = time.perf_counter()
            futures.append(
                await producer.send(
                    settings.topics.raw_reports,
                    key=message.key,
                    value=message.value,
                    headers=headers,
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


LAYOUTS = ("one", "two", "split", "halves")


def layout_settings(settings: Settings, layout: str) -> list[Settings]:
    """The settings of each worker process of a layout (see the module's docstring)."""
    if layout == "one":
        return [settings]
    second = settings.model_copy(update={"web_port": free_port()})
    if layout == "two":
        return [settings, second]
    if layout == "split":
        core = frozenset({"parse", "totals", "alerts", "notify"})
        return [
            settings.model_copy(update={"stages": core}),
            second.model_copy(update={"stages": frozenset({"sinks"})}),
        ]
    if layout == "halves":
        return [
            settings.model_copy(update={"stages": frozenset({"parse", "totals"})}),
            second.model_copy(update={"stages": frozenset({"alerts", "notify", "sinks"})}),
        ]
    raise ValueError(f"layout {layout!r}: one of {', '.join(LAYOUTS)}")


async def _all_committed(every: list[Settings], timeout_s: float) -> float:
    """When every worker's group has committed all it reads of raw reports, loss events and
    deltas (the sinks ack after their writes)."""
    finished = 0.0
    for settings in every:
        t = settings.topics
        wanted = [t.raw_reports, t.loss_events, t.deltas]
        read = [topic for topic in consumed_topics(settings) if topic in wanted]
        finished = max(finished, await wait_committed(settings, read, timeout_s))
    return finished


async def measure_pipeline(
    ctx: BenchContext,
    events: int,
    *,
    steady_rate: float = 100.0,
    steady_seconds: float = 10.0,
    timeout_s: float = 300.0,
    layout: str = "one",
) -> PipelineFigures:
    settings = worker_settings(ctx, "pipeline")
    every = layout_settings(settings, layout)
    yesterday = date.today() - timedelta(days=1)
    timed = series_holding(events, id_prefix="pipeline", last=yesterday)
    warm = report_series(1, id_prefix="pipeline", last=timed[0].published - timedelta(days=1))
    steady_days = max(1, round(steady_rate * steady_seconds))
    steady = report_series(
        steady_days, id_prefix="pipeline", last=yesterday + timedelta(days=steady_days)
    )
    arrivals: dict[str, list[float]] = {}

    def note_arrival(delta: dict[str, Any], at: float) -> None:
        arrivals.setdefault(delta["source_id"], []).append(at)

    workers = [
        WorkerProcess(s, log_path=ctx.workdir / f"{s.group_id}.{n}.log").start()
        for n, s in enumerate(every)
    ]

    def alive() -> bool:
        return all(w.alive() for w in workers)

    watcher = OutputWatcher(
        settings.bootstrap_servers,
        settings.topics.deltas,
        ctx.partitions,
        framed=True,
        on_event=note_arrival,
    )
    await watcher.start()
    try:
        await publish([classify_line(encode(d)) for d in warm], settings)
        expected = events_in(warm)
        await watcher.wait_for(expected, timeout_s, alive)
        # Warm means every stage has done its work once, the sinks' first write included
        # (it opens the warehouse, and imports DuckDB and Arrow).
        await _all_committed(every, 60)

        # Encoded before the clock starts, as the pass-through's messages are.
        messages = [classify_line(encode(d)) for d in timed]
        started = time.perf_counter()
        await publish(messages, settings)
        expected += events_in(timed)
        await watcher.wait_for(expected, timeout_s, alive)
        finished = await _all_committed(every, 60)
        throughput = rate(events_in(timed), started, finished)

        sent = await _steady(settings, steady, steady_rate)
        expected += events_in(steady)
        await watcher.wait_for(expected, timeout_s, alive)
        latencies = [
            (at - sent[doc_id]) * 1000 for doc_id in sent for at in arrivals.get(doc_id, [])
        ]
        peaks = [peak_rss_mb(w.pid) for w in workers if w.pid is not None]
        rss = max((p for p in peaks if p is not None), default=None)
        return PipelineFigures(
            throughput, percentile(latencies, 50), percentile(latencies, 99), rss
        )
    finally:
        await watcher.stop()
        for worker in workers:
            worker.stop()
