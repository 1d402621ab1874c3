"""The same year of reports through the real pipeline into DuckDB and into PostgreSQL:
`daily_losses` is identical in both, and replaying the year changes no row."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from attrition.contracts.events import RawDocument
from attrition.contracts.wire import encode
from attrition.ingest.document_files import classify_line
from attrition.ingest.publisher import publish
from attrition.settings import Settings
from attrition.sinks.warehouse import TABLES, open_warehouse
from attrition.stream.worker_process import WorkerProcess, wait_until_idle
from isolated_settings import isolated_settings
from report_fixtures import figures_for, report_series

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

YEAR = report_series(date(2023, 1, 1), 365, id_prefix="wh")


async def _feed(settings: Settings, docs: list[RawDocument], worker: WorkerProcess) -> None:
    await publish([classify_line(encode(d)) for d in docs], settings)
    await wait_until_idle(settings, timeout_s=240, worker=worker)


async def _snapshot(url: str) -> dict[str, Any]:
    async with open_warehouse(url) as warehouse:
        tables = {t: await warehouse.dump(t) for t in TABLES}
        tables["daily_losses"] = await warehouse.daily_losses()
        return tables


def _current_deltas(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    # Raw reports spread over partitions, so two workers may see a key's days in different
    # orders: `late`/`correction` flags and superseded versions record that history. The
    # current deltas and their figures do not depend on it.
    return {
        r["delta_id"]: (r["as_of"], r["previous_total"], r["total"], r["change"])
        for r in rows
        if r["superseded_by"] is None
    }


async def test_a_year_lands_identically_in_duckdb_and_postgres_and_replays_change_nothing(
    embedded_broker: object, tmp_path: Path, postgres_url: str
) -> None:
    url = embedded_broker.url  # type: ignore[attr-defined]
    duck = isolated_settings(url, tmp_path / "duck")
    pg = isolated_settings(url, tmp_path / "pg", warehouse=postgres_url)
    workers = [
        WorkerProcess(duck, log_path=tmp_path / "duck.log").start(),
        WorkerProcess(pg, log_path=tmp_path / "pg.log").start(),
    ]
    try:
        await asyncio.gather(_feed(duck, YEAR, workers[0]), _feed(pg, YEAR, workers[1]))
        duck_tables, pg_tables = await _check_identical(duck, pg)
        # The whole year again, through the live pipeline (a producer replaying after a crash):
        # every figure is a duplicate, so no row changes.
        await asyncio.gather(_feed(duck, YEAR, workers[0]), _feed(pg, YEAR, workers[1]))
        assert await _snapshot(duck.warehouse) == duck_tables
        assert await _snapshot(pg.warehouse) == pg_tables
    finally:
        for worker, log in zip(workers, ("duck.log", "pg.log"), strict=True):
            assert worker.stop() == 0, (tmp_path / log).read_text()[-3000:]


async def _check_identical(duck: Settings, pg: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    duck_tables = await _snapshot(duck.warehouse)
    pg_tables = await _snapshot(pg.warehouse)

    assert len(duck_tables["daily_losses"]) == 365
    assert duck_tables["daily_losses"] == pg_tables["daily_losses"]
    last = duck_tables["daily_losses"][-1]
    assert last["as_of"] == date(2023, 12, 31)
    assert last["tanks"] == figures_for(364)["tanks"]
    assert _current_deltas(duck_tables["deltas"]) == _current_deltas(pg_tables["deltas"])
    assert len(_current_deltas(duck_tables["deltas"])) == 365 * 13
    assert duck_tables["loss_events"] == pg_tables["loss_events"]
    assert duck_tables["current_totals"] == pg_tables["current_totals"]

    return duck_tables, pg_tables
