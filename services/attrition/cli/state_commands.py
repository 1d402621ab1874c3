"""`attrition state drop`: remove a stage's table entry that a worker stopped on."""

from __future__ import annotations

import asyncio

import typer

from attrition.broker.table_entries import TABLES, changelog_topic, drop_entry
from attrition.settings import Settings

app = typer.Typer(no_args_is_help=True, help="The stages' tables (their changelog topics).")


@app.command("drop")
def drop(
    key: str = typer.Argument(..., help="The key, e.g. ua_general_staff/russia/tanks."),
    table: str = typer.Option(..., "--table", help=f"One of: {', '.join(TABLES)}."),
) -> None:
    """Remove KEY's entry from TABLE with a tombstone in its changelog; the key starts over.

    For an entry a worker cannot decode (it stops, logging `the <table> state of <key> does not
    decode`). Stop the workers of that table first, and use their settings (ATTRITION_APP_ID,
    ATTRITION_STAGES): the changelog is named after them. A totals ledger started over has no
    previous total for its next day."""
    if table not in TABLES:
        raise typer.BadParameter(f"one of {', '.join(TABLES)}", param_hint="--table")
    settings = Settings()
    topic = changelog_topic(settings, table)
    written = asyncio.run(drop_entry(settings, table, key.encode()))
    if not written:
        typer.echo(f"{key}: no entry in {topic}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{key}: tombstone written to {topic}, partition {', '.join(map(str, written))}")
