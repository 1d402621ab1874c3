"""Every measurement in one run, on one embedded broker, and the table (or JSON) they make."""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from attrition.bench.common import BenchContext
from attrition.bench.faust_passthrough import measure_faust_passthrough
from attrition.bench.load import loss_events, series_holding
from attrition.bench.parsers import ParserRates, measure_parsers
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


@dataclass(frozen=True)
class Round:
    """One round of the broker measurements, taken one after the other."""

    raw: float
    faust: float
    quix: float | None
    totals: float
    pipeline: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    worker_peak_rss_mb: float | None


async def _round(
    ctx: BenchContext,
    events: int,
    messages: list[tuple[bytes, bytes]],
    steady_rate: float,
    steady_seconds: float,
    say: Callable[[str], None],
    layout: str,
) -> Round:
    say(f"raw aiokafka ceiling, {len(messages)} messages")
    raw = await measure_raw_ceiling(ctx, messages)
    say(f"  {raw:,.0f} events/s")
    say("stock Faust pass-through")
    faust = await measure_faust_passthrough(ctx, messages)
    say(f"  {faust:,.0f} events/s")
    quix: float | None = None
    if quix_missing() is None:
        say("Quix Streams per-key running sum")
        quix = await measure_quix_stateful(ctx, messages)
        say(f"  {quix:,.0f} events/s")
    say(f"attrition totals stage, {events} loss events")
    totals = await measure_totals_stage(ctx, events)
    say(f"  {totals:,.0f} events/s")
    say(f"attrition pipeline ({layout}), {events} loss events, then {steady_rate:g} documents/s")
    p = await measure_pipeline(
        ctx, events, steady_rate=steady_rate, steady_seconds=steady_seconds, layout=layout
    )
    say(
        f"  {p.events_per_s:,.0f} loss events/s; p50 / p99 {_shown(p.latency_p50_ms)} / "
        f"{_shown(p.latency_p99_ms)} ms; peak RSS {_shown(p.worker_peak_rss_mb)} MB"
    )
    return Round(
        raw,
        faust,
        quix,
        totals,
        p.events_per_s,
        p.latency_p50_ms,
        p.latency_p99_ms,
        p.worker_peak_rss_mb,
    )


async def _broker_measurements(
    ctx: BenchContext,
    events: int,
    steady_rate: float,
    steady_seconds: float,
    say: Callable[[str], None],
    layout: str,
    rounds: int,
) -> list[Round]:
    losses = list(loss_events(series_holding(events, id_prefix="load")))[:events]
    messages = [(e.totals_key.encode(), encode(e)) for e in losses]
    taken = []
    for n in range(1, rounds + 1):
        if rounds > 1:
            say(f"round {n} of {rounds}")
        taken.append(await _round(ctx, events, messages, steady_rate, steady_seconds, say, layout))
    return taken


def _columns(rounds: list[Round]) -> dict[str, list[float | None]]:
    """Each broker figure of the JSON, round by round; a ratio is each round's own."""
    return {
        "raw_ceiling_events_per_s": [r.raw for r in rounds],
        "faust_passthrough_events_per_s": [r.faust for r in rounds],
        "quix_stateful_events_per_s": [r.quix for r in rounds],
        "totals_stage_events_per_s": [r.totals for r in rounds],
        "pipeline_events_per_s": [r.pipeline for r in rounds],
        "latency_p50_ms": [r.latency_p50_ms for r in rounds],
        "latency_p99_ms": [r.latency_p99_ms for r in rounds],
        "worker_peak_rss_mb": [r.worker_peak_rss_mb for r in rounds],
        "pipeline_vs_faust": [_ratio(r.pipeline, r.faust) for r in rounds],
        "pipeline_vs_raw": [_ratio(r.pipeline, r.raw) for r in rounds],
        "totals_vs_quix": [_ratio(r.totals, r.quix) for r in rounds],
    }


_PEAK = "worker_peak_rss_mb"


def combine(rounds: list[Round], parsers: ParserRates) -> BenchFigures:
    """The figures of several rounds: each rate and latency the median of its rounds, the peak
    memory the highest, and each ratio the median of the rounds' own ratios. A round's ratio
    divides two figures taken a minute apart; across rounds the machine's speed drifts by a
    third (docs/performance.md), which a ratio of two medians from different rounds would
    carry into the comparison."""
    # Any: the keys are BenchFigures' own fields (a test checks), which mypy cannot see.
    combined: dict[str, Any] = {}
    for key, values in _columns(rounds).items():
        known = [v for v in values if v is not None]
        if not known:
            combined[key] = None
        else:
            combined[key] = max(known) if key == _PEAK else statistics.median(known)
    return BenchFigures(
        parse_reports_per_s=parsers.reports_per_s,
        parse_articles_per_s=parsers.articles_per_s,
        **combined,
    )


def round_notes(rounds: list[Round]) -> dict[str, str]:
    """Each broker figure of every round, for the table: the median is not the whole story."""
    if len(rounds) < 2:
        return {}
    notes = {}
    for key, values in _columns(rounds).items():
        if all(v is None for v in values):
            continue
        shown = " / ".join(_shown(v, key in _RATIO_KEYS) for v in values)
        notes[key] = f"{'highest' if key == _PEAK else 'median'} of rounds {shown}"
    return notes


def _shown(value: float | None, ratio: bool = False) -> str:
    if value is None:
        return "null"
    if ratio:
        return f"{value:.2f}"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


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
    rounds: int = 3,
) -> BenchRun:
    notes: dict[str, str] = {}
    say("parsers on one core")
    parsers = measure_parsers(corpus)
    notes["parse_reports_per_s"] = parsers.reports_source
    notes["parse_articles_per_s"] = parsers.articles_source
    with tempfile.TemporaryDirectory(prefix="attrition-bench-") as scratch:
        where = workdir if workdir is not None else Path(scratch)
        where.mkdir(parents=True, exist_ok=True)
        broker = EmbeddedBroker(binary=tansu_bin, log_path=where / "tansu.log").start()
        say(f"embedded broker on {broker.url} (pid {broker.pid}); logs in {where}")
        try:
            ctx = BenchContext(broker.bootstrap, where, partitions)
            taken = asyncio.run(
                _broker_measurements(ctx, events, steady_rate, steady_seconds, say, layout, rounds)
            )
        finally:
            broker.stop()
    notes.update(round_notes(taken))
    missing = quix_missing()
    if missing is not None:
        notes["quix_stateful_events_per_s"] = missing
    workers = "1 worker" if layout == "one" else f"2 workers ({layout})"
    alternated = f", {rounds} rounds alternated" if rounds > 1 else ""
    notes["load"] = (
        f"{events} loss events, {partitions} partitions, {workers}, {os.cpu_count()} cores"
        + alternated
    )
    return BenchRun(combine(taken, parsers), notes)


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


_RATIO_KEYS = frozenset(key for key, _, unit in _ROWS if unit == "×")


def format_table(run: BenchRun) -> str:
    values = asdict(run.figures)
    lines = [f"{'measurement':<42} {'value':>12}  unit"]
    for key, label, unit in _ROWS:
        value = values[key]
        shown = _shown(value, unit == "×")
        note = run.notes.get(key)
        lines.append(f"{label:<42} {shown:>12}  {unit}" + (f"  ({note})" if note else ""))
    lines.append(f"load: {run.notes.get('load', '')}")
    return "\n".join(lines)
