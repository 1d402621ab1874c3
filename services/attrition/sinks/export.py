"""Export the warehouse to Parquet or CSV files, hive-partitioned by year of `as_of`:
`out/deltas/year=2022/part-0.parquet`.

DuckDB writes the files in both cases (its COPY … PARTITION_BY does the partitioning). A
DuckDB warehouse is read in place through a read-only connection, taken like any reader's
(so an export works while a worker writes); a PostgreSQL warehouse is first copied into an
in-memory DuckDB built by the same migrations, so `daily_losses` is computed by the same view
definition whichever engine holds the data.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

import duckdb

from attrition.sinks.duckdb_sink import DuckDbWarehouse, connect, migrate, run_steps
from attrition.sinks.rows import ALERT_COLUMNS, DELTA_COLUMNS, LOSS_EVENT_COLUMNS
from attrition.sinks.statements import PRIMARY_KEYS, Upsert
from attrition.sinks.warehouse import Warehouse, open_warehouse

Format = Literal["parquet", "csv"]

EXPORTED = ("loss_events", "deltas", "alerts", "daily_losses")
# What a copy of a PostgreSQL warehouse needs; `daily_losses` is a view over `deltas`.
COPIED_COLUMNS = {
    "loss_events": LOSS_EVENT_COLUMNS,
    "deltas": (*DELTA_COLUMNS, "superseded_by"),
    "alerts": ALERT_COLUMNS,
}


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _copy_partitioned(con: duckdb.DuckDBPyConnection, fmt: Format, out_dir: Path) -> None:
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    for name in EXPORTED:
        order = ", ".join(PRIMARY_KEYS[name])
        con.execute(
            f"COPY (SELECT *, year(as_of) AS year FROM {name} ORDER BY {order}) "
            f"TO {_quoted(out_dir / name)} "
            f"({options}, PARTITION_BY (year), OVERWRITE true, FILENAME_PATTERN 'part-{{i}}')"
        )


async def export_warehouse(warehouse_url: str, fmt: Format, out_dir: Path) -> list[Path]:
    """Write loss_events, deltas, alerts and daily_losses under `out_dir`; the files written.

    A table's directory is replaced as a whole, so no partition of an earlier export lingers.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown export format {fmt!r}: use parquet or csv")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    warehouse = open_warehouse(warehouse_url)
    async with warehouse:
        if isinstance(warehouse, DuckDbWarehouse):
            await warehouse.run(lambda con: _copy_partitioned(con, fmt, out_dir))
        else:
            await _export_copy(warehouse, fmt, out_dir)
    suffix = f".{fmt}"
    return sorted(p for name in EXPORTED for p in (out_dir / name).rglob(f"*{suffix}"))


async def _export_copy(warehouse: Warehouse, fmt: Format, out_dir: Path) -> None:
    dumps = {table: await warehouse.dump(table) for table in COPIED_COLUMNS}

    def write() -> None:
        con = connect(":memory:", write=True, lock_timeout=0)
        try:
            migrate(con)
            steps = [
                Upsert(table, columns, [[r[c] for r in rows] for c in columns], False)
                for table, columns in COPIED_COLUMNS.items()
                if (rows := dumps[table])
            ]
            run_steps(con, steps)
            _copy_partitioned(con, fmt, out_dir)
        finally:
            con.close()

    await asyncio.to_thread(write)
