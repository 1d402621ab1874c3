"""Every measurement in one run, on one embedded broker, and the table (or JSON) they make."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from attrition.bench.common import BenchContext
from attrition.bench.faust_passthrough import measure_faust_passthrough
from attrition.bench.load import loss_events, series_holding
from attrition.bench.parsers import measure_parsers
from attrition.bench.pipeline import measure_pipeline
from attrition.bench.quix_stateful import measure_quix_stateful, quix_missing
from attrition.bench.raw_ceiling import measure_raw_ceiling
from attrition.bench.totals_stage import measure_totals_stage
from attrition.broker.embedded_broker import EmbeddedBroker
from attrition.contracts.wire import encode


@dataclass
class BenchFigures:
    """The `--json` object: these keys and no others (rates in events per second)."""

    parse_reports_per_s: float
    parse_articles_per_s: float
    faust_passthrough_events_per_s: float
    raw_ceiling_events_per_s: float
    quix_stateful_events_per_s: float | None
    totals_stage_events_per_s: float
    pipeline_events_per_s: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    worker_peak_rss_mb: float | None
    pipeline_vs_faust: float | None
    pipeline_vs_raw: float | None
    totals_vs_quix: float | None


@dataclass
class BenchRun:
    figures: BenchFigures
    notes: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, float | None]:
        return {
            k: (round(v, 3) if v is not None else None) for k, v in asdict(self.figures).items()
        }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


async def _broker_measurements(
    ctx: BenchContext,
    events: int,
    steady_rate: float,
    steady_seconds: float,
    say: Callable[[str], None],
    layout: str = "one",
) -> tuple[
    float, float, float | None, float, tuple[float, float | None, float | None, float | None]
]:
    losses = list(loss_events(series_holding(events, id_prefix="load")))[:events]
    messages = [(e.totals_key.encode(), encode(e)) for e in losses]
    say(f"raw aiokafka ceiling, {len(messages)} messages")
    raw = await measure_raw_ceiling(ctx, messages)
    say("stock Faust pass-through")
    faust = await measure_faust_passthrough(ctx, messages)
    quix: float | None = None
    if quix_missing() is None:
        say("Quix Streams per-key running sum")
        quix = await measure_quix_stateful(ctx, messages)
    say(f"attrition totals stage, {events} loss events")
    totals = await measure_totals_stage(ctx, events)
    say(f"attrition pipeline ({layout}), {events} loss events, then {steady_rate:g} documents/s")
    p = await measure_pipeline(
        ctx, events, steady_rate=steady_rate, steady_seconds=steady_seconds, layout=layout
    )
    return (
        raw,
        faust,
        quix,
        totals,
        (
            p.events_per_s,
            p.latency_p50_ms,
            p.latency_p99_ms,
            p.worker_peak_rss_mb,
        ),
    )


def run_bench(
    *,
    events: int,
    corpus: Path,
    partitions: int = 4,
    steady_rate: float = 100.0,
    steady_seconds: float = 10.0,
    workdir: Path | None = None,
    tansu_bin: str | None = None,
    say: Callable[[str], None] = print,
    layout: str = "one",
) -> BenchRun:
    notes: dict[str, str] = {}
    say("parsers on one core")
    parsers = measure_parsers(corpus)
    notes["parse_reports_per_s"] = parsers.reports_source
    notes["parse_articles_per_s"] = parsers.articles_source
    missing = quix_missing()
    if missing is not None:
        notes["quix_stateful_events_per_s"] = missing
    with tempfile.TemporaryDirectory(prefix="attrition-bench-") as scratch:
        where = workdir if workdir is not None else Path(scratch)
        where.mkdir(parents=True, exist_ok=True)
        broker = EmbeddedBroker(binary=tansu_bin, log_path=where / "tansu.log").start()
        say(f"embedded broker on {broker.url} (pid {broker.pid}); logs in {where}")
        try:
            ctx = BenchContext(broker.bootstrap, where, partitions)
            raw, faust, quix, totals, (pipe, p50, p99, rss) = asyncio.run(
                _broker_measurements(ctx, events, steady_rate, steady_seconds, say, layout)
            )
        finally:
            broker.stop()
    workers = "1 worker" if layout == "one" else f"2 workers ({layout})"
    notes["load"] = (
        f"{events} loss events, {partitions} partitions, {workers}, {os.cpu_count()} cores"
    )
    figures = BenchFigures(
        parse_reports_per_s=parsers.reports_per_s,
        parse_articles_per_s=parsers.articles_per_s,
        faust_passthrough_events_per_s=faust,
        raw_ceiling_events_per_s=raw,
        quix_stateful_events_per_s=quix,
        totals_stage_events_per_s=totals,
        pipeline_events_per_s=pipe,
        latency_p50_ms=p50,
        latency_p99_ms=p99,
        worker_peak_rss_mb=rss,
        pipeline_vs_faust=_ratio(pipe, faust),
        pipeline_vs_raw=_ratio(pipe, raw),
        totals_vs_quix=_ratio(totals, quix),
    )
    return BenchRun(figures, notes)


_ROWS = (
    ("parse_reports_per_s", "report parser, one core", "reports/s"),
    ("parse_articles_per_s", "article extractor, one core", "articles/s"),
    ("raw_ceiling_events_per_s", "raw aiokafka produce + consume", "events/s"),
    ("faust_passthrough_events_per_s", "stock Faust pass-through A → B", "events/s"),
    ("quix_stateful_events_per_s", "Quix Streams per-key running sum", "events/s"),
    ("totals_stage_events_per_s", "attrition totals stage (loss → deltas)", "events/s"),
    ("pipeline_events_per_s", "attrition pipeline (raw → warehouse)", "loss events/s"),
    ("latency_p50_ms", "publish → delta p50 at the steady rate", "ms"),
    ("latency_p99_ms", "publish → delta p99 at the steady rate", "ms"),
    ("worker_peak_rss_mb", "worker peak RSS", "MB"),
    ("pipeline_vs_faust", "pipeline ÷ Faust pass-through", "×"),
    ("pipeline_vs_raw", "pipeline ÷ raw ceiling", "×"),
    ("totals_vs_quix", "totals stage ÷ Quix running sum", "×"),
)


def format_table(run: BenchRun) -> str:
    values = asdict(run.figures)
    lines = [f"{'measurement':<42} {'value':>12}  unit"]
    for key, label, unit in _ROWS:
        value = values[key]
        if value is None:
            shown = "null"
        elif unit == "×":
            shown = f"{value:.2f}"
        else:
            shown = f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"
        note = run.notes.get(key)
        lines.append(f"{label:<42} {shown:>12}  {unit}" + (f"  ({note})" if note else ""))
    lines.append(f"load: {run.notes.get('load', '')}")
    return "\n".join(lines)
