"""The sinks' writer through warehouse outages: a failed write is retried until the warehouse is
back, gives up with WarehouseUnavailable once `retry_seconds` have passed, and gives up at once
when the writer closes. The outages are real: a DuckDB path that cannot be opened (a directory
where the file should be), and a PostgreSQL database that refuses connections."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import socket
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from attrition.contracts.vocabulary import Category, Claimant, Subject
from attrition.sinks.warehouse import WriteBatch, open_warehouse
from attrition.sinks.warehouse_writer import WarehouseUnavailable, WarehouseWriter, retry_delays
from postgres_fixtures import database_accepts_connections
from synthetic_losses import Figure, delta_event, loss_event


def tanks(day: int, total: int) -> Figure:
    return Figure(
        Claimant.ua_general_staff,
        Subject.russia,
        Category.tanks,
        date(2024, 3, 1) + timedelta(days=day),
        total,
    )


def batch(day: int, total: int, before: int | None) -> WriteBatch:
    previous = tanks(day - 1, before) if before is not None else None
    return WriteBatch(
        loss_events=[loss_event(tanks(day, total))],
        deltas=[delta_event(tanks(day, total), previous)],
    )


class Failures:
    """Counts the writer's failed attempts, and lets a test wait for the n-th."""

    def __init__(self) -> None:
        self.seen: list[Exception] = []

    def __call__(self, exc: Exception) -> None:
        self.seen.append(exc)

    async def reach(self, n: int, timeout_s: float = 10.0) -> None:
        async with asyncio.timeout(timeout_s):
            while len(self.seen) < n:
                await asyncio.sleep(0.02)


@pytest.fixture
def unopenable(tmp_path: Path) -> Path:
    """A directory where the warehouse file should be: every attempt to open it fails until
    the directory is removed."""
    path = tmp_path / "warehouse.duckdb"
    path.mkdir()
    return path


async def totals_in(url: str) -> list[int]:
    async with open_warehouse(url) as warehouse:
        return [t.total for t in await warehouse.current_totals()]


def test_retry_delays_double_up_to_the_cap() -> None:
    delays = list(itertools.islice(retry_delays(0.2, 10.0), 9))
    assert delays == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0, 10.0])


async def test_a_write_waits_until_the_warehouse_can_be_opened(unopenable: Path) -> None:
    path = unopenable
    failures = Failures()
    writer = WarehouseWriter(f"duckdb:///{path}", retry_seconds=60, on_failure=failures)
    try:
        write = asyncio.create_task(writer.write(batch(0, 100, None)))
        await failures.reach(3)
        assert not write.done()  # still retrying, nothing acked
        shutil.rmtree(path)
        await asyncio.wait_for(write, 15)
    finally:
        await writer.close()
    assert await totals_in(f"duckdb:///{path}") == [100]


async def test_a_write_gives_up_once_the_retries_run_out(unopenable: Path) -> None:
    path = unopenable
    failures = Failures()
    writer = WarehouseWriter(f"duckdb:///{path}", retry_seconds=0.5, on_failure=failures)
    try:
        with pytest.raises(WarehouseUnavailable, match="no retry left"):
            await asyncio.wait_for(writer.write(batch(0, 100, None)), 10)
    finally:
        await writer.close()
    assert len(failures.seen) >= 2  # retried before giving up


async def test_retry_seconds_zero_gives_up_at_the_first_failure(unopenable: Path) -> None:
    path = unopenable
    failures = Failures()
    writer = WarehouseWriter(f"duckdb:///{path}", retry_seconds=0, on_failure=failures)
    try:
        with pytest.raises(WarehouseUnavailable):
            await writer.write(batch(0, 100, None))
    finally:
        await writer.close()
    assert len(failures.seen) == 1


async def test_closing_the_writer_ends_a_retrying_write_at_once(unopenable: Path) -> None:
    path = unopenable
    failures = Failures()
    writer = WarehouseWriter(f"duckdb:///{path}", retry_seconds=600, on_failure=failures)
    write = asyncio.create_task(writer.write(batch(0, 100, None)))
    await failures.reach(1)
    await asyncio.wait_for(writer.close(), 5)
    with pytest.raises(WarehouseUnavailable, match="the writer is closing"):
        await asyncio.wait_for(write, 5)
    assert writer.closing


async def test_batches_merged_while_retrying_are_all_written(unopenable: Path) -> None:
    path = unopenable
    failures = Failures()
    writer = WarehouseWriter(f"duckdb:///{path}", retry_seconds=60, on_failure=failures)
    try:
        first = asyncio.create_task(writer.write(batch(0, 100, None)))
        await failures.reach(1)
        later = [asyncio.create_task(writer.write(batch(d, 100 + d, 99 + d))) for d in (1, 2)]
        await asyncio.sleep(0.1)
        shutil.rmtree(path)
        await asyncio.wait_for(asyncio.gather(first, *later), 15)
    finally:
        await writer.close()
    async with open_warehouse(f"duckdb:///{path}") as warehouse:
        assert (await warehouse.counts())["deltas"] == 3
        assert [t.total for t in await warehouse.current_totals()] == [102]


@pytest.mark.postgres
async def test_a_write_waits_out_a_postgres_outage(
    postgres_server_url: str, postgres_url: str
) -> None:
    failures = Failures()
    writer = WarehouseWriter(postgres_url, retry_seconds=60, on_failure=failures)
    try:
        await writer.write(batch(0, 100, None))
        database_accepts_connections(postgres_server_url, postgres_url, False)
        try:
            write = asyncio.create_task(writer.write(batch(1, 104, 100)))
            await failures.reach(2)
            assert not write.done()
        finally:
            database_accepts_connections(postgres_server_url, postgres_url, True)
        await asyncio.wait_for(write, 15)
    finally:
        await writer.close()
    assert isinstance(failures.seen[0], psycopg.OperationalError)
    assert await totals_in(postgres_url) == [104]


async def test_a_stopping_worker_ends_a_retrying_write_at_once(unopenable: Path) -> None:
    path = unopenable
    failures = Failures()
    stopping = False
    writer = WarehouseWriter(
        f"duckdb:///{path}", retry_seconds=600, on_failure=failures, stopping=lambda: stopping
    )
    try:
        write = asyncio.create_task(writer.write(batch(0, 100, None)))
        await failures.reach(4)  # the pause before the next attempt is 1.6 s now
        stopping = True
        with pytest.raises(WarehouseUnavailable, match="the writer is closing"):
            await asyncio.wait_for(write, 0.6)
    finally:
        await writer.close()


async def test_a_postgres_server_that_never_answers_fails_the_attempt_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A listening socket nobody serves: the kernel completes the TCP handshake and nothing more,
    # as with a hung server. libpq alone would wait for ever; the writer needs the attempt to
    # fail to go on retrying (and to give up when the worker stops).
    from attrition.sinks import postgres_sink

    monkeypatch.setattr(postgres_sink, "CONNECT_TIMEOUT_SECONDS", 1)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        warehouse = open_warehouse(f"postgresql://attrition@127.0.0.1:{port}/attrition")
        began = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            await asyncio.wait_for(warehouse.open(), 10)
        assert time.monotonic() - began < 5
