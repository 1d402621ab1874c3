"""`attrition state sizes|drop`: the stages' table entries as their changelogs hold them."""

from __future__ import annotations

import asyncio

import typer

from attrition.broker.table_entries import TABLES, changelog_topic, drop_entry, latest_entries
from attrition.settings import RECORD_OVERHEAD_BYTES, Settings

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
    # Counted as the limit counts a record: key, value and the record's overhead.
    live = sorted(
        (
            (size + RECORD_OVERHEAD_BYTES, key, p)
            for (key, p), size in entries.items()
            if size is not None
        ),
        reverse=True,
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
