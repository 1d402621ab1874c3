"""Commands that read the warehouse: totals."""

from __future__ import annotations

import asyncio
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


def print_totals(url: str, *, as_json: bool) -> None:
    rows = [_row_json(r) for r in asyncio.run(_read_totals(url))]
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
) -> None:
    """Current totals, one row per (claimant, subject, category, source kind)."""
    settings = settings_with(warehouse=warehouse_url(warehouse))
    print_totals(settings.warehouse, as_json=as_json)
