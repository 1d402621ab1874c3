"""`attrition poll`: fetch the configured web sources and publish what is new."""

from __future__ import annotations

import asyncio
import signal

import typer
from rich.console import Console

from attrition.ingest.web_poller import PollSummary, WebPoller
from attrition.settings import Settings

err = Console(stderr=True)


def _report(summary: PollSummary) -> None:
    for error in summary.errors:
        err.print(f"failed: {error}", markup=False, highlight=False)
    typer.echo(summary.line())


async def _poll_forever(poller: WebPoller) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await poller.run(stop, on_poll=_report)


def poll(
    once: bool = typer.Option(False, "--once", help="Poll once and exit (e.g. from cron)."),
) -> None:
    """Fetch ATTRITION_INGEST__FEEDS and ATTRITION_INGEST__URLS; publish new documents."""
    settings = Settings()
    if not settings.ingest.feeds and not settings.ingest.urls:
        err.print("nothing to poll: set ATTRITION_INGEST__FEEDS or ATTRITION_INGEST__URLS")
        raise typer.Exit(2)
    poller = WebPoller(settings)
    if not once:
        err.print(f"polling every {settings.ingest.poll_interval_s:g} s; Ctrl-C stops")
        asyncio.run(_poll_forever(poller))
        return
    summary = asyncio.run(poller.poll_once())
    _report(summary)
    if summary.failed and not (summary.fetched or summary.not_modified):
        raise typer.Exit(1)
