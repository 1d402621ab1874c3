"""A stage that meets an error it has no answer for (a table entry that does not decode, a bug)
stops the worker, saying which stage and why, and the messages it had not acked go to the next
worker. Faust's own supervisor would restart the agent on the messages after the failed batch:
the worker went on looking healthy while its commits stopped at that batch."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from aiokafka import AIOKafkaProducer

from attrition.broker.consumer_progress import group_lag
from attrition.broker.table_entries import changelog_topic, entry_partitions
from attrition.cli.options import settings_env
from attrition.contracts.vocabulary import Category, Claimant, DocumentKind, Subject
from attrition.parse.document_parser import parse_document
from attrition.settings import RECORD_OVERHEAD_BYTES, Settings
from attrition.sinks.warehouse import WriteBatch, open_warehouse
from attrition.stream.worker_process import WorkerProcess
from attrition.totals.totals_ledger import TotalsLedger, current_deltas
from isolated_settings import isolated_settings
from pipeline_helpers import publish_docs, read_deltas, run_until_idle
from report_fixtures import report_series

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

TANKS = b"ua_general_staff/russia/tanks"


async def _damage_entry(settings: Settings, table: str, key: bytes) -> None:
    """Overwrite the key's entry in a table's changelog with bytes no stage can decode."""
    partitions = await entry_partitions(settings, table, key)
    assert list(partitions.values()) == [True], partitions
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            changelog_topic(settings, table),
            b"\x00 not a state",
            key=key,
            partition=next(iter(partitions)),
        )
    finally:
        await producer.stop()


def _state_command(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`attrition state …`, run as an operator would, with the worker's settings."""
    return subprocess.run(
        [sys.executable, "-m", "attrition.cli.main", "state", *args],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _wait_exit(worker: WorkerProcess, log: Path, timeout_s: float) -> int | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while worker.alive() and loop.time() < deadline:
        await asyncio.sleep(0.3)
    alive = worker.alive()
    code = worker.stop()
    assert not alive, "the worker is still running: " + log.read_text(errors="replace")[-3000:]
    return code


@pytest.mark.parametrize(
    ("table", "stage", "input_topic"),
    [
        ("totals-ledger", "attrition.totals", "loss_events"),
        ("spike-detector", "attrition.alerts", "deltas"),
    ],
)
async def test_a_state_that_does_not_decode_stops_the_worker_and_loses_nothing(
    embedded_broker: object, tmp_path: Path, table: str, stage: str, input_topic: str
) -> None:
    settings = isolated_settings(embedded_broker.url, tmp_path)  # type: ignore[attr-defined]
    docs = report_series(date(2024, 3, 1), 4, id_prefix="bad-state")
    await run_until_idle(settings, docs[:3], tmp_path / "first.log")
    listed = _state_command(settings, "sizes", "--table", table, "--top", "20")
    assert listed.returncode == 0, listed.stderr[-3000:]
    lines = listed.stdout.splitlines()
    assert lines[0].startswith(f"13 entries in {changelog_topic(settings, table)}; limit 1,000,000")
    assert len(lines) == 14 and any(line.endswith(TANKS.decode()) for line in lines[1:])
    # Largest first, each counted as the record limit counts it (key, value and overhead).
    sizes = [int(line.split()[0].replace(",", "")) for line in lines[1:]]
    assert sizes == sorted(sizes, reverse=True)
    assert all(size > RECORD_OVERHEAD_BYTES + len(TANKS) for size in sizes)
    await _damage_entry(settings, table, TANKS)

    # The fourth day's tanks figure meets the unreadable state.
    log = tmp_path / "second.log"
    worker = WorkerProcess(settings, log_path=log).start()
    await publish_docs(settings, docs[3:])
    code = await _wait_exit(worker, log, timeout_s=90)
    assert code not in (0, None)
    text = log.read_text(errors="replace")
    critical = [line for line in text.splitlines() if '"level":"critical"' in line]
    assert any(
        f'"logger":"{stage}"' in line
        and f"the {table} state of ua_general_staff/russia/tanks does not decode" in line
        for line in critical
    ), text[-3000:]
    # Nothing was committed past the failed batch: the stage's input still has a lag.
    topic = getattr(settings.topics, input_topic)
    assert sum(n for tp, n in (await group_lag(settings)).items() if tp.topic == topic) > 0

    # The remedy the message points to: remove the entry, and the key starts over. The next
    # worker gets the failed batch again.
    dropped = _state_command(settings, "drop", TANKS.decode(), "--table", table)
    assert dropped.returncode == 0, dropped.stderr[-3000:]
    assert f"tombstone written to {changelog_topic(settings, table)}" in dropped.stdout
    assert list((await entry_partitions(settings, table, TANKS)).values()) == [False]
    again = _state_command(settings, "drop", TANKS.decode(), "--table", table)
    assert again.returncode == 1 and "no entry" in again.stderr
    await run_until_idle(settings, [], tmp_path / "third.log")
    tanks = [d for d in await read_deltas(settings) if d.category is Category.tanks]
    assert {d.as_of for d in tanks} == {date(2024, 3, 1) + timedelta(days=i) for i in range(4)}
    if table == "totals-ledger":  # the ledger started over at the fourth day
        fourth = [d for d in tanks if d.as_of == date(2024, 3, 4)]
        assert fourth and all(d.previous_total is None for d in fourth), fourth


async def test_a_ledger_rebuilt_from_the_warehouse_goes_on_as_if_never_damaged(
    embedded_broker: object, tmp_path: Path
) -> None:
    """`attrition state rebuild`: the ledger made again from the key's loss events in the
    warehouse, and the deltas the failed stage never sent; the tanks deltas end as a clean
    run's."""
    settings = isolated_settings(embedded_broker.url, tmp_path)  # type: ignore[attr-defined]
    docs = report_series(date(2024, 3, 1), 5, id_prefix="rebuilt")
    await run_until_idle(settings, docs[:3], tmp_path / "first.log")
    await _damage_entry(settings, "totals-ledger", TANKS)
    log = tmp_path / "second.log"
    worker = WorkerProcess(settings, log_path=log).start()
    await publish_docs(settings, docs[3:4])
    assert await _wait_exit(worker, log, timeout_s=90) not in (0, None)

    # A warehouse that lacks a loss event the totals stage committed (sinks running apart and
    # behind) would give a ledger without it, for good: the rebuild refuses, writing nothing.
    second_day = [e for e in parse_document(docs[1])[0] if e.category is Category.tanks]
    with duckdb.connect(settings.warehouse.removeprefix("duckdb:///")) as con:
        con.execute("DELETE FROM loss_events WHERE event_id = ?", [second_day[0].event_id])
    refused = _state_command(settings, "rebuild", TANKS.decode())
    assert refused.returncode == 1, refused.stdout
    assert refused.stderr.startswith(
        "ua_general_staff/russia/tanks: the warehouse lacks 1 of the 3 loss events of it that "
        "the totals stage committed"
    ), refused.stderr
    assert refused.stdout == ""

    # The sinks read the fourth day's figures too, and may have written them before the worker
    # stopped: make sure they did, the case where the next worker would find them in the
    # rebuilt ledger already and send no delta for them. The sinks catch up on the second day.
    async with open_warehouse(settings.warehouse) as warehouse:
        fourth_day = list(parse_document(docs[3])[0])
        await warehouse.write(WriteBatch(loss_events=second_day + fourth_day))
    rebuilt = _state_command(settings, "rebuild", TANKS.decode())
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert rebuilt.stdout.startswith(
        "ua_general_staff/russia/tanks: ledger rebuilt from 4 loss events of 4 days "
        "(2024-03-01 to 2024-03-04)"
    ), rebuilt.stdout
    assert rebuilt.stdout.rstrip().endswith("; 1 deltas the warehouse lacked sent")
    await run_until_idle(settings, docs[4:], tmp_path / "third.log")

    clean = TotalsLedger(Claimant.ua_general_staff, Subject.russia, Category.tanks)
    for doc in docs:
        for event in parse_document(doc)[0]:
            if event.category is Category.tanks:
                clean.apply(event)
    expected = {d.delta_id for d in clean.current_deltas_of(DocumentKind.report)}
    on_topic = current_deltas(
        d for d in await read_deltas(settings) if d.category is Category.tanks
    )
    assert {d.delta_id for d in on_topic.values()} == expected
    async with open_warehouse(settings.warehouse) as warehouse:
        held = await warehouse.current_deltas_of(
            Claimant.ua_general_staff, Subject.russia, Category.tanks
        )
    assert {h.delta_id for rows in held.values() for h in rows} == expected
    assert len(expected) == 5
