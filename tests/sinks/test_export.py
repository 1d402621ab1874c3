"""Export to hive-partitioned Parquet and CSV, from either engine."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest

from attrition.sinks.export import EXPORTED, export_warehouse
from attrition.sinks.warehouse import open_warehouse
from synthetic_losses import CATEGORIES, synthetic_year

# December 2022 into February 2023: two partitions per table.
DATA = synthetic_year(start=date(2022, 12, 1), days=62, days_per_batch=31)


def read_back(files: list[Path], fmt: str) -> list[dict]:
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    names = ", ".join(f"'{f}'" for f in files)
    cursor = duckdb.connect().execute(f"SELECT * FROM {reader}([{names}], hive_partitioning=true)")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
async def test_export_partitions_by_year(warehouse_url: str, fmt: str, tmp_path: Path) -> None:
    async with open_warehouse(warehouse_url) as w:
        for batch in DATA.batches:
            await w.write(batch)
        dumps = {name: await w.dump(name) for name in EXPORTED}

    out = tmp_path / "out"
    files = await export_warehouse(warehouse_url, fmt, out)  # type: ignore[arg-type]

    assert [f.relative_to(out).as_posix() for f in files] == [
        f"{name}/year={year}/part-0.{fmt}"
        for name in sorted(EXPORTED)
        for year in (2022, 2023)
        if name != "alerts" or any(a.as_of.year == year for a in DATA.all_events.alerts)
    ]
    for name in EXPORTED:
        rows = read_back([f for f in files if f.parts[-3] == name], fmt)
        assert Counter(r.pop("year") for r in rows) == Counter(r["as_of"].year for r in dumps[name])
        if fmt == "parquet":
            key = list(dumps[name][0])
            assert sorted(rows, key=lambda r: [str(r[k]) for k in key]) == sorted(
                dumps[name], key=lambda r: [str(r[k]) for k in key]
            ), name
        else:
            assert len(rows) == len(dumps[name])
    daily = read_back([f for f in files if f.parts[-3] == "daily_losses"], fmt)
    assert len(daily) == DATA.days and set(daily[0]) >= {c.value for c in CATEGORIES}

    # Exporting again replaces the files instead of failing on, or adding to, the old ones.
    assert await export_warehouse(warehouse_url, fmt, out) == files  # type: ignore[arg-type]
    assert len(read_back([f for f in files if f.parts[-3] == "deltas"], fmt)) == len(
        dumps["deltas"]
    )


async def test_export_of_an_empty_warehouse_writes_no_files(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    assert await export_warehouse(url, "parquet", tmp_path / "out") == []


async def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        await export_warehouse(f"duckdb:///{tmp_path / 'x.duckdb'}", "xlsx", tmp_path)  # type: ignore[arg-type]
