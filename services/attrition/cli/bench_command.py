"""`attrition bench`: every speed figure in one run on one embedded broker (docs/performance.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

DEFAULT_CORPUS = Path("../shared/corpus")


def bench(
    events: int = typer.Option(20_000, "--events", min=100, help="Loss events per stage."),
    partitions: int = typer.Option(4, "--partitions", min=1, help="Partitions of every topic."),
    steady_seconds: float = typer.Option(
        10.0, "--steady-seconds", min=1.0, help="Length of the 100 documents/s latency run."
    ),
    corpus: Path = typer.Option(DEFAULT_CORPUS, "--corpus", help="Real reports and articles."),
    workdir: Path | None = typer.Option(
        None, "--workdir", help="Keep the logs and warehouses here (default: a temporary folder)."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object on stdout."),
    rounds: int = typer.Option(
        3,
        "--rounds",
        min=1,
        help="Rounds of the broker measurements, taken in turn; each figure is the median of "
        "its rounds and each ratio the median of the rounds' own ratios.",
    ),
    layout: str = typer.Option(
        "one",
        "--pipeline-layout",
        help="Workers of the pipeline rows: `one`, `two` (both run every stage), `split` "
        "(parse, totals and alerts in one, the sinks in the other) or `halves` (parse and "
        "totals in one, alerts and sinks in the other).",
    ),
) -> None:
    """Parsers, a stock Faust agent, the raw client, Quix Streams and attrition's totals stage and
    whole pipeline, measured side by side on one embedded broker."""
    from attrition.bench.pipeline import LAYOUTS
    from attrition.bench.runner import format_table, run_bench
    from attrition.settings import Settings

    if layout not in LAYOUTS:
        raise typer.BadParameter(f"one of {', '.join(LAYOUTS)}", param_hint="--pipeline-layout")

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    run = run_bench(
        events=events,
        corpus=corpus,
        partitions=partitions,
        steady_seconds=steady_seconds,
        workdir=workdir,
        tansu_bin=Settings().tansu_bin,
        say=say,
        layout=layout,
        rounds=rounds,
    )
    if as_json:
        typer.echo(json.dumps(run.as_json()))
    else:
        typer.echo(format_table(run))
