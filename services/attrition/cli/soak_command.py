"""`attrition soak`: a sustained rate through a local pipeline, with lag, worker memory and
throughput printed as it goes. Not a test (nothing is asserted, and it runs for minutes):
a way to see whether lag or memory keeps growing at a given rate."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta

import typer

from attrition.cli.options import settings_with, warehouse_url


def _report(i: int) -> bytes:
    from attrition.contracts.events import RawDocument
    from attrition.contracts.wire import encode

    as_of = date(2022, 3, 1) + timedelta(days=i % 20_000)
    text = (
        f"The total combat losses of the enemy from 24.02.22 to {as_of:%d.%m.%y} were "
        f"approximately:\n\ntanks ‒ {3000 + i} (+1),\nAPV ‒ {6000 + 2 * i} (+2)."
    )
    doc = RawDocument(id=f"soak-{i}", kind="report", published=as_of, lang="en", text=text)
    return encode(doc)


async def _soak(settings: object, pid: int, rate: int, seconds: float, every: float) -> None:
    import psutil

    from attrition.broker.consumer_progress import group_lag
    from attrition.broker.topic_admin import ensure_topics
    from attrition.ingest.document_files import classify_line
    from attrition.ingest.publisher import make_producer

    await ensure_topics(settings)  # type: ignore[arg-type]
    producer = make_producer(settings)  # type: ignore[arg-type]
    await producer.start()
    worker = psutil.Process(pid)
    topics = settings.topics  # type: ignore[attr-defined]
    started = time.monotonic()
    next_print = started + every
    sent = 0
    typer.echo("   t(s)     sent   rate/s      lag   worker RSS MB   worker CPU %")
    try:
        while (now := time.monotonic()) - started < seconds:
            due = int((now - started) * rate)
            for _ in range(due - sent):
                message = classify_line(_report(sent))
                await producer.send(topics.raw_reports, value=message.value, key=message.key)
                sent += 1
            if now >= next_print:
                lag = sum((await group_lag(settings)).values())  # type: ignore[arg-type]
                rss = worker.memory_info().rss / 2**20
                typer.echo(
                    f"{now - started:7.0f} {sent:8d} {sent / (now - started):8.0f} {lag:8d} "
                    f"{rss:15.1f} {worker.cpu_percent():14.0f}"
                )
                next_print += every
            await asyncio.sleep(0.01)
    finally:
        await producer.stop()


def soak(
    rate: int = typer.Option(200, help="Reports per second to publish."),
    minutes: float = typer.Option(5.0, help="How long to keep publishing."),
    every: float = typer.Option(10.0, help="Seconds between printed lines."),
    warehouse: str | None = typer.Option(None, help="DuckDB file path or warehouse URL."),
) -> None:
    """Publish RATE small reports a second for MINUTES through a local pipeline (embedded broker
    unless ATTRITION_BROKER is set), printing lag, worker RSS and throughput over time."""
    from attrition.stream.local_pipeline import local_pipeline

    settings = settings_with(warehouse=warehouse_url(warehouse))
    with local_pipeline(settings, say=typer.echo) as pipeline:
        assert pipeline.worker.pid is not None
        asyncio.run(_soak(pipeline.settings, pipeline.worker.pid, rate, minutes * 60, every))
        typer.echo("publishing stopped; draining")
        pipeline.wait_until_idle(600)
