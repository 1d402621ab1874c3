"""`attrition state sizes|drop|rebuild`: the stages' table entries as their changelogs hold
them."""

from __future__ import annotations

import asyncio
from typing import NoReturn

import typer

from attrition.broker.committed_input import committed_loss_event_ids
from attrition.broker.table_entries import (
    LEDGER_TABLE,
    TABLES,
    changelog_topic,
    drop_entry,
    entry_partitions,
    latest_entries,
    write_entry,
)
from attrition.cli.options import settings_with, warehouse_url
from attrition.contracts.vocabulary import Category, Claimant, Subject
from attrition.ingest.publisher import publish_deltas
from attrition.settings import Settings, record_bytes
from attrition.sinks.warehouse import open_warehouse
from attrition.totals.ledger_rebuild import deltas_missing, rebuilt_ledger

app = typer.Typer(no_args_is_help=True, help="The stages' tables (their changelog topics).")


_TABLE = typer.Option(..., "--table", help=f"One of: {', '.join(TABLES)}.")


def _checked(table: str) -> str:
    if table not in TABLES:
        raise typer.BadParameter(f"one of {', '.join(TABLES)}", param_hint="--table")
    return table


@app.command("sizes")
def sizes(
    table: str = _TABLE,
    top: int = typer.Option(20, "--top", min=1, help="How many of the largest to list."),
) -> None:
    """The largest entries of TABLE, with their share of ATTRITION_MAX_RECORD_BYTES.

    A totals ledger grows with its key's history; past the limit the stage stops the worker.
    The metric attrition_state_largest_record_bytes says how large the largest is; this says
    which key it is."""
    settings = Settings()
    entries = asyncio.run(latest_entries(settings, _checked(table)))
    live = sorted(
        ((size, key, p) for (key, p), size in entries.items() if size is not None), reverse=True
    )
    limit = settings.max_record_bytes
    typer.echo(f"{len(live)} entries in {changelog_topic(settings, table)}; limit {limit:,} bytes")
    for size, key, partition in live[:top]:
        share = size / limit
        typer.echo(f"{size:>12,}  {share:6.1%}  p{partition}  {key.decode(errors='replace')}")


@app.command("drop")
def drop(
    key: str = typer.Argument(..., help="The key, e.g. ua_general_staff/russia/tanks."),
    table: str = _TABLE,
) -> None:
    """Remove KEY's entry from TABLE with a tombstone in its changelog; the key starts over.

    For an entry a worker cannot decode (it stops, logging `the <table> state of <key> does not
    decode`). Stop the workers of that table first, and use their settings (ATTRITION_APP_ID,
    ATTRITION_STAGES): the changelog is named after them. A totals ledger started over has no
    previous total for its next day."""
    settings = Settings()
    topic = changelog_topic(settings, _checked(table))
    written = asyncio.run(drop_entry(settings, table, key.encode()))
    if not written:
        typer.echo(f"{key}: no entry in {topic}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{key}: tombstone written to {topic}, partition {', '.join(map(str, written))}")


@app.command("rebuild")
def rebuild(
    key: str = typer.Argument(..., help="The key, e.g. ua_general_staff/russia/tanks."),
    warehouse: str | None = typer.Option(None, help="DuckDB file path or warehouse URL."),
) -> None:
    """Rebuild KEY's totals ledger from every loss event of it in the warehouse, write it to
    the table's changelog, and send the deltas it yields that the warehouse lacks.

    For a ledger that does not decode (or was dropped): the next worker goes on from the
    rebuilt ledger as if it had never been damaged, where `drop` starts the key over. Stop the
    workers first. The warehouse must hold every loss event the totals stage has committed (it
    does when the sinks run in the same workers, or once their lag is zero): the command reads
    them back from the loss-events topic, and writes nothing when one is missing."""
    try:
        claimant, subject, category = key.split("/")
        parts = (Claimant(claimant), Subject(subject), Category(category))
    except ValueError:
        raise typer.BadParameter("claimant/subject/category", param_hint="KEY") from None
    settings = settings_with(warehouse=warehouse_url(warehouse))
    typer.echo(asyncio.run(_rebuild(settings, key, *parts)))


async def _rebuild(
    settings: Settings, key: str, claimant: Claimant, subject: Subject, category: Category
) -> str:
    topic = changelog_topic(settings, LEDGER_TABLE)
    async with open_warehouse(settings.warehouse) as warehouse:
        events = await warehouse.loss_events_of(claimant, subject, category)
        held = await warehouse.current_deltas_of(claimant, subject, category)
    if not events:
        _fail(f"{key}: no loss event in the warehouse ({settings.warehouse})")
    partitions = sorted(await entry_partitions(settings, LEDGER_TABLE, key.encode()))
    if len(partitions) != 1:
        # The entry lives in the partition of the key's loss events; without a record of it
        # (or with records in several) there is no telling which one the table reads.
        _fail(f"{key}: records in partitions {partitions} of {topic}, not in exactly one")
    # A ledger without a loss event the totals stage committed would never get it again: the
    # stage does not read committed messages twice. (Retention may have removed the oldest
    # messages; those the warehouse is trusted to hold.)
    committed = await committed_loss_event_ids(settings, key, partitions[0])
    missing = committed - {e.event_id for e in events}
    if missing:
        _fail(
            f"{key}: the warehouse lacks {len(missing):,} of the {len(committed):,} loss events "
            f"of it that the totals stage committed ({settings.topics.loss_events}, partition "
            f"{partitions[0]}); nothing written. If the sinks run in workers of their own, "
            "wait until their lag is zero, then run this again"
        )
    ledger = rebuilt_ledger(claimant, subject, category, events)
    record = ledger.to_bytes()
    size = record_bytes(key.encode(), record)
    if size > settings.max_record_bytes:
        _fail(f"{key}: the rebuilt ledger is {size:,} bytes, more than a record may hold")
    await write_entry(settings, LEDGER_TABLE, key.encode(), record, partitions)
    # Deltas of loss events the warehouse holds but the failed stage never applied: the next
    # worker finds their figures in the ledger already and would send none.
    sent = await publish_deltas(key, deltas_missing(ledger, held), settings)
    days = sorted({e.as_of for e in events})
    return (
        f"{key}: ledger rebuilt from {len(events):,} loss events of {len(days):,} days "
        f"({days[0]} to {days[-1]}); {len(record):,} bytes written to {topic}, "
        f"partition {partitions[0]}; {sent} deltas the warehouse lacked sent"
    )


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(1)
