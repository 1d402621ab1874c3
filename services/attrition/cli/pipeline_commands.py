"""Commands that run pieces of the pipeline: broker, worker, publish, and `run` (all of them)."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Literal
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from attrition.cli.options import settings_with, warehouse_url
from attrition.cli.warehouse_commands import print_totals
from attrition.ingest.document_files import OutgoingMessage, read_messages
from attrition.ingest.publisher import PublishSummary, publish, publish_loss_events
from attrition.settings import Settings

err = Console(stderr=True)


def broker(
    port: int = typer.Option(0, help="Port to listen on (0: a free one)."),
) -> None:
    """Run the embedded broker (Tansu) in the foreground, printing its bootstrap address."""
    from attrition.broker.embedded_broker import EmbeddedBroker

    embedded = EmbeddedBroker(port=port, binary=Settings().tansu_bin).start()
    typer.echo(f"ATTRITION_BROKER={embedded.url}  (pid {embedded.pid}; Ctrl-C stops it)")
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stop["now"] and embedded.process and embedded.process.poll() is None:
            time.sleep(0.2)
    finally:
        embedded.stop()


def tune_gc() -> None:
    """Fewer garbage collections in the worker: it allocates (and soon frees) a few objects per
    event, and with CPython's defaults (a collection per 700 allocations, each walking every
    long-lived object: modules, ledgers) collections took half the totals stage's time in a
    profile. The imported modules are moved out of the collector's view for good."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def use_event_loop(name: Literal["uvloop", "asyncio"]) -> None:
    """Make every event loop created from here on a `name` loop ("uvloop" or "asyncio").

    The worker's main thread is its limit (Faust, aiokafka and every stage share it), and with
    uvloop the pipeline row's timed part took about a tenth less of the worker's CPU. uvloop
    raises where asyncio drops a write to a reset connection, which aiokafka does not expect:
    the fix for that comes with it."""
    if name == "uvloop":
        import mode.loop

        from attrition.broker.reset_connection_writes import install_reset_connection_write_fix

        install_reset_connection_write_fix()
        mode.loop.use("uvloop")


def worker() -> None:
    """Run the worker (every agent) against ATTRITION_BROKER until SIGTERM or Ctrl-C.

    SIGTERM is graceful: in-flight events finish, offsets commit, the sink flushes."""
    from faust.worker import Worker

    from attrition.broker.topic_admin import ensure_topics
    from attrition.stream.app import create_app
    from attrition.stream.broker_watch import input_topic_ids
    from attrition.stream.fatal import arm_hard_exit

    settings = Settings()
    use_event_loop(settings.event_loop)

    async def prepare() -> Mapping[str, UUID]:
        # Declared before Faust subscribes: a subscription to a missing topic makes the broker
        # create it with its default partition count, which breaks the keyed layout.
        await ensure_topics(settings)
        return await input_topic_ids(settings)

    topic_ids = asyncio.run(prepare())
    app = create_app(settings)
    app.topic_ids_at_start = topic_ids
    arm_hard_exit()
    tune_gc()
    Worker(app, loglevel=settings.log_level, quiet=True).execute_from_commandline()


def _publish_with_progress(
    inputs: list[str], settings: Settings, messages: Iterable[OutgoingMessage] | None = None
) -> PublishSummary:
    with Progress(
        TextColumn("publishing"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("publish", total=None)

        def advance(summary: PublishSummary) -> None:
            progress.update(task, completed=summary.sent + summary.duplicates)

        return asyncio.run(
            publish(
                read_messages(inputs) if messages is None else messages,
                settings,
                on_progress=advance,
            )
        )


def publish_command(
    input: list[str] = typer.Option(..., "--input", "-i", help="File(s) to publish, or -"),
    format: str = typer.Option(
        "jsonl", "--format", "-f", help="jsonl (RawDocuments), text or html (one per file)."
    ),
    kind: str = typer.Option("report", "--kind", help="text/html: report or article."),
    published: str | None = typer.Option(
        None, "--published", help="text/html: publication date (default: the file's mtime)."
    ),
) -> None:
    """Publish raw documents to the raw topics of ATTRITION_BROKER."""
    from datetime import date

    from attrition.contracts.vocabulary import DocumentKind
    from attrition.ingest.text_sources import InputFormat, Rejected, read_documents

    try:
        fmt, doc_kind = InputFormat(format), DocumentKind(kind)
        when = date.fromisoformat(published) if published else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    settings = Settings()
    rejected: list[Rejected] = []

    def accepted() -> Iterator[OutgoingMessage]:
        for item in read_documents(
            input,
            fmt=fmt,
            kind=doc_kind,
            published=when,
            max_bytes=settings.limits.max_document_bytes,
        ):
            if isinstance(item, Rejected):
                rejected.append(item)
                err.print(f"rejected {item.line()}")
            else:
                yield item

    summary = _publish_with_progress(input, settings, messages=accepted())
    summary.rejected += len(rejected)
    summary.reasons.extend(r.line() for r in rejected)
    typer.echo(summary.line())


def run(
    input: list[str] = typer.Option(
        [], "--input", "-i", help="JSON-lines file(s) of RawDocument; default: the shipped sample"
    ),
    until_idle: bool = typer.Option(
        False, "--until-idle", help="Exit once everything published reached the warehouse."
    ),
    warehouse: str | None = typer.Option(None, help="DuckDB file path or warehouse URL."),
    data_dir: str | None = typer.Option(None, help="Worker state directory."),
    timeout: float = typer.Option(900.0, help="With --until-idle: give up after this many s."),
) -> None:
    """The main job: embedded broker (unless ATTRITION_BROKER is set), worker, producer."""
    inputs = input or [str(Path(__file__).resolve().parents[1] / "samples" / "reports.jsonl")]
    settings = settings_with(warehouse=warehouse_url(warehouse), data_dir=data_dir)
    _run_pipeline(
        settings,
        lambda s: _publish_with_progress(inputs, s),
        until_idle=until_idle,
        timeout=timeout,
    )


def backfill(
    history: Path = typer.Argument(..., help="Folder of the structured history (petroivaniuk)."),
    until_idle: bool = typer.Option(True, "--until-idle/--keep-running"),
    warehouse: str | None = typer.Option(None, help="DuckDB file path or warehouse URL."),
    data_dir: str | None = typer.Option(None, help="Worker state directory."),
    timeout: float = typer.Option(1800.0, help="Give up after this many s."),
) -> None:
    """Load the structured daily history through the same pipeline (totals, deltas, alerts)."""
    from attrition.history.petroivaniuk import history_loss_events, load_history

    loaded = load_history(history)
    events = list(history_loss_events(loaded))
    err.print(f"{len(loaded.days)} days, {len(events)} figures from {history}")
    settings = settings_with(warehouse=warehouse_url(warehouse), data_dir=data_dir)

    def send(s: Settings) -> PublishSummary:
        with Progress(
            TextColumn("backfilling"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("backfill", total=len(events))
            return asyncio.run(
                publish_loss_events(
                    events, s, on_progress=lambda p: progress.update(task, completed=p.sent)
                )
            )

    _run_pipeline(settings, send, until_idle=until_idle, timeout=timeout)


def _run_pipeline(
    settings: Settings,
    send: Callable[[Settings], PublishSummary],
    *,
    until_idle: bool,
    timeout: float,
) -> None:
    from attrition.stream.local_pipeline import last_failure, local_pipeline

    failed: str | None = None
    with local_pipeline(settings, say=err.print) as pipeline:
        try:
            summary = send(pipeline.settings)
            err.print(f"published: {summary.line()}")
            if not until_idle:
                err.print("running; Ctrl-C stops the worker and the broker")
                while pipeline.worker.alive():
                    time.sleep(0.5)
                return
            with err.status("waiting until every stage is idle"):
                pipeline.wait_until_idle(timeout)
        except KeyboardInterrupt:
            err.print("stopping")
        except (RuntimeError, TimeoutError) as exc:  # the worker died, or never caught up
            failed = str(exc)
    if failed is not None or pipeline.exit_code not in (0, None):
        err.print(failed or f"the worker exited with {pipeline.exit_code}")
        reason = last_failure(pipeline.log_path)
        if reason:
            err.print(f"the worker's log says: {reason}", markup=False, soft_wrap=True)
        err.print(f"see {pipeline.log_path}")
        raise typer.Exit(1)
    if until_idle:
        print_totals(settings.warehouse, as_json=False)


def setup_logging() -> None:
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(message)s"
    )
