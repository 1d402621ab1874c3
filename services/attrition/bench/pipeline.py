"""(5), (6), (7): the whole worker on raw reports. Throughput end to end (raw reports in, every
delta on its topic and every loss event and delta in the warehouse), then the latency from
publishing a document to its deltas at a steady rate, then the worker's peak memory.

One worker serves all three, on one daily series: the throughput part takes its first days,
the steady part the rest, so each part's figures are new to the ledgers."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

import orjson

from attrition.bench.common import BenchContext, OutputWatcher, bench_producer, peak_rss_mb, rate
from attrition.bench.load import EVENTS_PER_REPORT, report_series
from attrition.bench.worker import wait_committed, worker_settings
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


async def measure_pipeline(
    ctx: BenchContext,
    events: int,
    *,
    steady_rate: float = 100.0,
    steady_seconds: float = 10.0,
    timeout_s: float = 300.0,
) -> PipelineFigures:
    settings = worker_settings(ctx, "pipeline")
    timed_days = max(1, -(-events // EVENTS_PER_REPORT))
    steady_days = max(1, round(steady_rate * steady_seconds))
    series = report_series(1 + timed_days + steady_days, id_prefix="pipeline")
    warm, timed, steady = series[:1], series[1 : 1 + timed_days], series[1 + timed_days :]
    arrivals: dict[str, list[float]] = {}

    def note_arrival(key: bytes | None, value: bytes, at: float) -> None:
        arrivals.setdefault(orjson.loads(value)["source_id"], []).append(at)

    worker = WorkerProcess(settings, log_path=ctx.workdir / f"{settings.app_id}.log").start()
    watcher = OutputWatcher(
        settings.bootstrap_servers,
        settings.topics.deltas,
        ctx.partitions,
        note_arrival,
        framed=True,
    )
    await watcher.start()
    try:
        await publish([classify_line(encode(d)) for d in warm], settings)
        await watcher.wait_for(EVENTS_PER_REPORT, timeout_s, worker.alive)

        started = time.perf_counter()
        await publish([classify_line(encode(d)) for d in timed], settings)
        expected = EVENTS_PER_REPORT * (len(warm) + len(timed))
        await watcher.wait_for(expected, timeout_s, worker.alive)
        t = settings.topics
        finished = await wait_committed(settings, [t.raw_reports, t.loss_events, t.deltas], 60)
        throughput = rate(EVENTS_PER_REPORT * len(timed), started, finished)

        sent = await _steady(settings, steady, steady_rate)
        expected += EVENTS_PER_REPORT * len(steady)
        await watcher.wait_for(expected, timeout_s, worker.alive)
        latencies = [
            (at - sent[doc_id]) * 1000 for doc_id in sent for at in arrivals.get(doc_id, [])
        ]
        rss = peak_rss_mb(worker.pid) if worker.pid is not None else None
        return PipelineFigures(
            throughput, percentile(latencies, 50), percentile(latencies, 99), rss
        )
    finally:
        await watcher.stop()
        worker.stop()
