"""Commands that read the warehouse: totals."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from attrition.cli.options import settings_with, warehouse_url
from attrition.sinks.warehouse import TotalRow, open_warehouse


async def _read_totals(url: str) -> list[TotalRow]:
    async with open_warehouse(url) as warehouse:
        return await warehouse.current_totals()


def _row_json(row: TotalRow) -> dict[str, Any]:
    return {
        "claimant": row.claimant.value if hasattr(row.claimant, "value") else row.claimant,
        "subject": row.subject.value if hasattr(row.subject, "value") else row.subject,
        "category": row.category.value if hasattr(row.category, "value") else row.category,
        "source_kind": (
            row.source_kind.value if hasattr(row.source_kind, "value") else row.source_kind
        ),
        "total": row.total,
        "as_of": row.as_of.isoformat(),
    }


def latest_report_rows(rows: list[TotalRow]) -> list[TotalRow]:
    """Keep the totals of each claimant/subject/source's latest date.

    A category the latest report no longer lists (2022's separate vehicles and fuel tanks, say)
    was retired or merged; its last total stays in the warehouse and `--all` shows it."""
    latest: dict[tuple[str, str, str], date] = {}
    for r in rows:
        group = (str(r.claimant), str(r.subject), str(r.source_kind))
        latest[group] = max(latest.get(group, r.as_of), r.as_of)
    return [
        r for r in rows if r.as_of == latest[(str(r.claimant), str(r.subject), str(r.source_kind))]
    ]


def print_totals(url: str, *, as_json: bool, include_retired: bool = False) -> None:
    found = asyncio.run(_read_totals(url))
    rows = [_row_json(r) for r in (found if include_retired else latest_report_rows(found))]
    if as_json:
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(title="current totals")
    for column in ("claimant", "subject", "category", "source", "total", "as of"):
        table.add_column(column, justify="right" if column == "total" else "left")
    for r in rows:
        table.add_row(
            r["claimant"],
            r["subject"],
            r["category"],
            r["source_kind"],
            f"{r['total']:,}",
            r["as_of"],
        )
    Console().print(table)


def totals(
    warehouse: str | None = typer.Option(None, help="DuckDB file path or warehouse URL."),
    as_json: bool = typer.Option(False, "--json", help="One JSON array of rows."),
    include_retired: bool = typer.Option(
        False, "--all", help="Also categories the latest report no longer lists."
    ),
) -> None:
    """Current totals, one row per (claimant, subject, category, source kind)."""
    settings = settings_with(warehouse=warehouse_url(warehouse))
    print_totals(settings.warehouse, as_json=as_json, include_retired=include_retired)


def export(
    fmt: str = typer.Option("parquet", "--format", help="parquet or csv"),
    out: Path = typer.Option(..., "--out", help="Folder to write, partitioned by year."),
    warehouse: str | None = typer.Option(None, help="DuckDB file path or warehouse URL."),
) -> None:
    """Loss events, deltas, alerts and daily_losses as files, partitioned by year."""
    from attrition.sinks.export import export_warehouse

    if fmt not in ("parquet", "csv"):
        typer.echo(f"unknown format {fmt!r}: parquet or csv", err=True)
        raise typer.Exit(2)
    settings = settings_with(warehouse=warehouse_url(warehouse))
    written = asyncio.run(export_warehouse(settings.warehouse, fmt, out))  # type: ignore[arg-type]
    for path in written:
        typer.echo(str(path))
