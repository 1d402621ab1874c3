"""A worker process writes the DuckDB file batch after batch while this process reads it:
`attrition totals` and `attrition export` must keep working next to a running worker."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from attrition.sinks.duckdb_sink import (
    IDLE_RELEASE_SECONDS,
    DuckDbWarehouse,
    ask_for_turn,
    connect,
    turn_asked,
    turn_request,
)
from attrition.sinks.export import export_warehouse
from attrition.sinks.warehouse import open_warehouse
from synthetic_losses import CATEGORIES, synthetic_year

READS = 25
MAX_DAYS = 800  # the writer stops sooner, when the stop file appears
START = date(2024, 1, 1)

WRITER = """
import asyncio, sys
from datetime import date
from pathlib import Path
from synthetic_losses import synthetic_year
from attrition.sinks.warehouse import open_warehouse

async def main(url, start, days, stop, hold):
    data = synthetic_year(start=date.fromisoformat(start), days=days, days_per_batch=1)
    async with open_warehouse(url, hold_seconds=hold) as warehouse:
        for n, batch in enumerate(data.batches, 1):
            await warehouse.write(batch)
            if n == 1:
                print("ready", flush=True)
            if stop.exists():
                break
    print(n, flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), float(sys.argv[5])))
"""


# 0.5: as the worker's sink does, the writer keeps its connection across back-to-back writes
# (at most half a second at a time here), and readers still get their turn.
@pytest.mark.parametrize("hold", [0.0, 0.5])
async def test_reads_succeed_while_another_process_writes(tmp_path: Path, hold: float) -> None:
    url = f"duckdb:///{tmp_path / 'busy.duckdb'}"
    stop = tmp_path / "stop"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, START.isoformat(), str(MAX_DAYS), str(stop), str(hold)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        seen: list[date] = []
        for n in range(READS):
            # As `attrition totals` does: open, read, close, next to the busy writer.
            async with open_warehouse(url) as warehouse:
                totals = await warehouse.current_totals()
            assert len(totals) == len(CATEGORIES)
            seen.append(max(t.as_of for t in totals))
            if n == READS // 2:
                files = await export_warehouse(url, "parquet", tmp_path / "out")
                assert any("deltas/year=2024" in f.as_posix() for f in files)
        assert writer.poll() is None, "the writer stopped before the reads were done"
        stop.touch()
        written, errors = writer.communicate(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()

    assert writer.returncode == 0, errors
    batches = int(written.split()[-1])
    print(f"\n{READS} reads and an export while the writer wrote {batches} batches")
    assert seen == sorted(seen), "a reader saw the totals go back in time"
    assert len(set(seen)) > 1, "no write landed between the reads"
    async with open_warehouse(url) as warehouse:
        final = await warehouse.current_totals()
        counts = await warehouse.counts()
    assert {t.as_of for t in final} == {START + timedelta(days=batches - 1)}
    assert counts["deltas"] == batches * len(CATEGORIES)


async def test_a_held_write_connection_is_let_go_once_writes_stop(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    data = synthetic_year(start=START, days=3, days_per_batch=1)
    async with open_warehouse(f"duckdb:///{path}", hold_seconds=30) as warehouse:
        for batch in data.batches:
            await warehouse.write(batch)
        # Still held right after the writes: another connection of this process with the
        # other access mode is refused (outside it, a reader waits and retries).
        with pytest.raises(duckdb.ConnectionException):
            duckdb.connect(str(path), read_only=True).close()
        assert len(await warehouse.current_totals()) == len(CATEGORIES)  # reads use it
        await asyncio.sleep(IDLE_RELEASE_SECONDS * 3)
        reader = duckdb.connect(str(path), read_only=True)  # let go: no wait, no retry
        try:
            (deltas,) = reader.execute("SELECT count(*) FROM deltas").fetchone() or (0,)
        finally:
            reader.close()
        assert deltas == 3 * len(CATEGORIES)


async def test_a_connection_held_long_enough_is_let_go_after_its_last_write_returns(
    tmp_path: Path,
) -> None:
    # Letting go makes DuckDB checkpoint: the write that reaches `hold_seconds` returns (and
    # its events are acked) first, then readers get their turn.
    path = tmp_path / "turn.duckdb"
    data = synthetic_year(start=START, days=2, days_per_batch=1)
    warehouse = DuckDbWarehouse(str(path), hold_seconds=1e-6)
    closed_at: list[float] = []
    close = warehouse._close_held

    def noting_close() -> None:
        if warehouse._held is not None:
            closed_at.append(time.monotonic())
        close()

    warehouse._close_held = noting_close  # type: ignore[method-assign]
    await warehouse.open()
    try:
        assert ask_for_turn(str(path))  # as a reader waiting in another process does
        await warehouse.write(data.batches[0])
        returned = time.monotonic()
        assert closed_at == []  # still held when the write returned
        assert warehouse._closer is not None
        await warehouse._closer
        assert len(closed_at) == 1 and closed_at[0] >= returned
        reader = duckdb.connect(str(path), read_only=True)  # let go: no wait, no retry
        reader.close()
        await warehouse.write(data.batches[1])  # connects again after the readers' turn
        assert (await warehouse.counts())["deltas"] == 2 * len(CATEGORIES)
    finally:
        await warehouse.close()


async def test_a_connection_held_long_enough_is_kept_while_no_one_asks_for_a_turn(
    tmp_path: Path,
) -> None:
    # Letting go costs a checkpoint, a pause and a reconnect: for nothing, if no one waits.
    path = tmp_path / "kept.duckdb"
    data = synthetic_year(start=START, days=3, days_per_batch=1)
    async with open_warehouse(f"duckdb:///{path}", hold_seconds=1e-6) as warehouse:
        assert isinstance(warehouse, DuckDbWarehouse)
        await warehouse.write(data.batches[0])
        held = warehouse._held
        await warehouse.write(data.batches[1])
        assert held is not None and warehouse._held is held
        assert not warehouse._close_due and warehouse._closer is None
        ask_for_turn(str(path))
        await warehouse.write(data.batches[2])
        assert warehouse._closer is not None
        await warehouse._closer
        assert warehouse._held is None
        assert (await warehouse.counts())["deltas"] == 3 * len(CATEGORIES)


def test_a_waiting_process_asks_for_its_turn_until_it_gets_in(tmp_path: Path) -> None:
    path = str(tmp_path / "asked.duckdb")
    holder = duckdb.connect(path)
    assert not turn_asked(path)
    release = time.monotonic() + 0.3
    got_in: list[float] = []

    def reader() -> None:
        con = connect(path, write=False, lock_timeout=10)
        got_in.append(time.monotonic())
        con.close()

    waiting = threading.Thread(target=reader)
    waiting.start()
    try:
        while time.monotonic() < release:
            time.sleep(0.02)
        assert turn_asked(path), "a waiting reader asks for a turn"
    finally:
        holder.close()
        waiting.join(10)
    assert got_in and got_in[0] >= release
    assert not turn_request(path).exists(), "the request is withdrawn once the reader got in"
    assert not turn_asked(path)
