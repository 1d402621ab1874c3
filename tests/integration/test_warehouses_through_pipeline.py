"""The same year of reports through the real pipeline into DuckDB and into PostgreSQL:
`daily_losses` is identical in both, and replaying the year changes no row. And a PostgreSQL
outage: the sinks wait it out and lose nothing; past their retries the worker stops, and the
next one writes everything."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from attrition.audit.collect import collect
from attrition.audit.ledger import audit
from attrition.broker.consumer_progress import group_lag
from attrition.contracts.events import RawDocument
from attrition.contracts.wire import encode
from attrition.ingest.document_files import classify_line
from attrition.ingest.publisher import publish
from attrition.settings import Settings
from attrition.sinks.warehouse import TABLES, open_warehouse
from attrition.stream.worker_process import WorkerProcess, wait_until_idle
from isolated_settings import isolated_settings
from postgres_fixtures import database_outage
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


OUTAGE_DAYS = report_series(date(2024, 1, 1), 30, id_prefix="outage")


async def _publish_parsed(
    settings: Settings, docs: list[RawDocument], timeout_s: float = 60
) -> None:
    """Publish, then wait until the parse stage has committed every raw report."""
    await publish([classify_line(encode(d)) for d in docs], settings)
    deadline = asyncio.get_running_loop().time() + timeout_s
    reports = settings.topics.raw_reports
    while any(n for tp, n in (await group_lag(settings)).items() if tp.topic == reports):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the raw reports were not parsed")
        await asyncio.sleep(0.2)


async def _audit_clean(settings: Settings, docs: list[RawDocument]) -> None:
    report = audit((await collect(settings)).data)
    assert report.ok, "\n".join(report.lines())
    assert report.raw_distinct_ids == len(docs)
    counts = await _counts(settings.warehouse)
    assert counts["loss_events"] == counts["deltas"] == 13 * len(docs)


async def _counts(url: str) -> dict[str, int]:
    async with open_warehouse(url) as warehouse:
        return await warehouse.counts()


async def test_a_warehouse_outage_delays_rows_and_loses_none(
    embedded_broker: object, tmp_path: Path, postgres_server_url: str, postgres_url: str
) -> None:
    settings = isolated_settings(embedded_broker.url, tmp_path, warehouse=postgres_url)  # type: ignore[attr-defined]
    log = tmp_path / "worker.log"
    worker = WorkerProcess(settings, log_path=log).start()
    try:
        await _feed(settings, OUTAGE_DAYS[:10], worker)
        with database_outage(postgres_server_url, postgres_url):
            await _publish_parsed(settings, OUTAGE_DAYS[10:20])
            await asyncio.sleep(3)  # the sinks' writes meet the outage (a batch every 0.2 s)
        await _feed(settings, OUTAGE_DAYS[20:], worker)
        await _audit_clean(settings, OUTAGE_DAYS)
        metrics = httpx.get(f"http://127.0.0.1:{settings.web_port}/metrics", timeout=10).text
        failures = re.search(r"^attrition_warehouse_write_failures_total (\S+)$", metrics, re.M)
        assert failures is not None and float(failures.group(1)) >= 2, metrics
    finally:
        assert worker.stop() == 0, log.read_text(errors="replace")[-3000:]
    assert "warehouse write failed (attempt 2)" in log.read_text(errors="replace")


async def test_an_outage_past_the_retries_stops_the_worker_and_the_next_writes_it_all(
    embedded_broker: object, tmp_path: Path, postgres_server_url: str, postgres_url: str
) -> None:
    settings = isolated_settings(
        embedded_broker.url,  # type: ignore[attr-defined]
        tmp_path,
        warehouse=postgres_url,
        warehouse_retry_seconds=2.0,
    )
    log = tmp_path / "worker.log"
    worker = WorkerProcess(settings, log_path=log).start()
    try:
        await _feed(settings, OUTAGE_DAYS[:10], worker)
        with database_outage(postgres_server_url, postgres_url):
            await publish([classify_line(encode(d)) for d in OUTAGE_DAYS[10:20]], settings)
            deadline = asyncio.get_running_loop().time() + 60
            while worker.alive() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.3)
            assert not worker.alive(), "the worker did not stop: " + log.read_text()[-3000:]
            assert worker.stop() not in (0, None)
            assert "no retry left" in log.read_text(errors="replace")
        worker = WorkerProcess(settings, log_path=log).start()
        await _feed(settings, OUTAGE_DAYS[20:], worker)
        await _audit_clean(settings, OUTAGE_DAYS)
    finally:
        assert worker.stop() == 0, log.read_text(errors="replace")[-3000:]


async def test_a_worker_stopped_during_an_outage_stops_and_the_next_writes_it_all(
    embedded_broker: object, tmp_path: Path, postgres_server_url: str, postgres_url: str
) -> None:
    settings = isolated_settings(embedded_broker.url, tmp_path, warehouse=postgres_url)  # type: ignore[attr-defined]
    log = tmp_path / "worker.log"
    worker = WorkerProcess(settings, log_path=log).start()
    try:
        await _feed(settings, OUTAGE_DAYS[:10], worker)
        with database_outage(postgres_server_url, postgres_url):
            await _publish_parsed(settings, OUTAGE_DAYS[10:20])
            await asyncio.sleep(2)  # the sinks are retrying now (warehouse_retry_seconds: 300)
            began = asyncio.get_running_loop().time()
            # Graceful: the retrying writes give up, their batches stay unacked.
            assert worker.stop(timeout_s=30) == 0, log.read_text(errors="replace")[-3000:]
            assert asyncio.get_running_loop().time() - began < 20
        worker = WorkerProcess(settings, log_path=log).start()
        await _feed(settings, OUTAGE_DAYS[20:], worker)
        await _audit_clean(settings, OUTAGE_DAYS)
    finally:
        assert worker.stop() == 0, log.read_text(errors="replace")[-3000:]
