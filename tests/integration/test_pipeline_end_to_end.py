"""The whole pipeline through the real embedded broker: raw reports in, loss events, deltas,
dead letters and warehouse rows out, and totals that survive a worker restart."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest

from attrition.contracts.batches import decode_delta_batch, decode_loss_batch
from attrition.contracts.events import CurrentTotal, DeadLetter
from attrition.contracts.vocabulary import Category, DeadLetterReason
from attrition.settings import Settings
from attrition.sinks.warehouse import open_warehouse
from attrition.stream.key_partitions import key_partition
from attrition.stream.worker_process import WorkerProcess, wait_until_idle
from attrition.totals.totals_ledger import current_deltas
from isolated_settings import isolated_settings
from pipeline_helpers import publish_docs, read_deltas, read_loss_events, read_topic
from report_fixtures import LABELS, figures_for, report_series

pytestmark = pytest.mark.integration

BAD_MESSAGES = [
    b"this is not json",
    orjson.dumps({"id": "no-text", "kind": "report", "published": "2023-01-05"}),
    orjson.dumps(
        {
            "id": "shopping",
            "kind": "report",
            "published": "2023-01-05",
            "text": "Milk, eggs and bread. Call mum.",
        }
    ),
]


async def _run_until_idle(settings: Settings, docs: list, tmp_path: Path) -> None:
    worker = WorkerProcess(settings, log_path=tmp_path / "worker.log").start()
    try:
        summary = await publish_docs(settings, docs)
        assert summary.sent == len(docs)
        await wait_until_idle(settings, timeout_s=120, worker=worker)
    finally:
        assert worker.stop() == 0, (tmp_path / "worker.log").read_text()[-3000:]


async def test_reports_become_loss_events_deltas_and_warehouse_rows(
    pipeline_settings: Settings, tmp_path: Path
) -> None:
    reports = report_series(date(2023, 1, 1), 5)
    await _run_until_idle(pipeline_settings, [*reports, *BAD_MESSAGES], tmp_path)
    topics = pipeline_settings.topics
    categories = len(LABELS)

    keyed = await read_loss_events(pipeline_settings)
    losses = [event for _, event in keyed]
    assert len(losses) == 5 * categories
    assert {e.source_id for e in losses} == {r.id for r in reports}
    # A message holds events of one partition, keyed by its first event (contracts/batches.py):
    # a report's figures share messages, and every event is on its own key's partition.
    # The totals stage frames the deltas the same way.
    n = pipeline_settings.topics.partitions
    for topic, decode in (
        (topics.loss_events, decode_loss_batch),
        (topics.deltas, decode_delta_batch),
    ):
        on_topic = await read_topic(pipeline_settings, topic)
        messages = [(key, decode(value)) for key, value in on_topic]
        assert all(key == events[0].totals_key.encode() for key, events in messages), topic
        assert all(
            key_partition(key, n) == key_partition(e.totals_key.encode(), n)
            for key, events in messages
            for e in events
            if key is not None
        ), topic
        assert any(len({e.totals_key for e in events}) > 1 for _, events in messages), topic

    deltas = await read_deltas(pipeline_settings)
    # Out-of-order arrival across partitions adds corrections; the current deltas are fixed.
    current = list(current_deltas(deltas).values())
    assert len(current) == 5 * categories
    tank_deltas = sorted(
        (d for d in current if d.category is Category.tanks), key=lambda d: d.as_of
    )
    assert [d.total for d in tank_deltas] == [figures_for(i)[Category.tanks] for i in range(5)]
    assert tank_deltas[0].previous_total is None
    assert [d.change for d in tank_deltas[1:]] == [
        figures_for(i)[Category.tanks] - figures_for(i - 1)[Category.tanks] for i in range(1, 5)
    ]
    assert all(d.reported_delta == d.change for d in tank_deltas[1:])

    # The compacted current-totals topic: the last record per key is the current total.
    latest = {
        key: CurrentTotal.model_validate_json(value)
        for key, value in await read_topic(pipeline_settings, topics.current_totals)
    }
    assert {t.category: t.total for t in latest.values()} == figures_for(4)
    assert b"ua_general_staff/russia/tanks/report" in latest

    letters = [
        DeadLetter.model_validate_json(v)
        for _, v in await read_topic(pipeline_settings, topics.dead_letters)
    ]
    assert sorted(letter.reason for letter in letters) == sorted(
        [
            DeadLetterReason.not_json,
            DeadLetterReason.invalid_document,
            DeadLetterReason.not_a_report,
        ]
    )
    assert all(letter.detail for letter in letters)

    async with open_warehouse(pipeline_settings.warehouse) as warehouse:
        counts = await warehouse.counts()
        assert await warehouse.delta_ids(current_only=True) == {d.delta_id for d in current}
        totals = {row.category: row for row in await warehouse.current_totals()}
    assert counts["loss_events"] == 5 * categories
    assert counts["deltas"] == len({d.delta_id for d in deltas})
    assert counts["dead_letters"] == 3
    last = figures_for(4)
    assert {c: row.total for c, row in totals.items()} == last
    assert {row.as_of for row in totals.values()} == {date(2023, 1, 5)}


async def test_rocksdb_store_keeps_every_ledger_between_batches(
    embedded_broker: object, tmp_path: Path
) -> None:
    """Faust's rocksdb store reads a key from the database of the current event's partition.
    A ledger flush inside the agent makes a message of one partition current, and the next
    batch's keys of the other partition then read as absent unless each read names the key's
    own message: their ledgers would start over, with no previous total. A flush after every
    batch and one report per batch make that happen on the first read."""
    settings = isolated_settings(
        embedded_broker.url,  # type: ignore[attr-defined]
        tmp_path,
        store="rocksdb://",
        totals_flush_seconds=0.001,
    )
    reports = report_series(date(2023, 3, 1), 3)
    worker = WorkerProcess(settings, log_path=tmp_path / "worker.log").start()
    try:
        for report in reports:
            summary = await publish_docs(settings, [report])
            assert summary.sent == 1
            await wait_until_idle(settings, timeout_s=120, worker=worker)
    finally:
        assert worker.stop() == 0, (tmp_path / "worker.log").read_text()[-3000:]
    current = current_deltas(await read_deltas(settings)).values()
    later = [d for d in current if d.as_of > date(2023, 3, 1)]
    assert len(later) == 2 * len(LABELS)
    assert [d.category for d in later if d.previous_as_of is None] == []
    assert all(d.previous_as_of == d.as_of - timedelta(days=1) for d in later)


@pytest.mark.parametrize(
    "store",
    [
        "memory://",
        "rocksdb://",
    ],
)
async def test_totals_survive_a_worker_restart(
    embedded_broker: object, tmp_path: Path, store: str
) -> None:
    pipeline_settings = isolated_settings(embedded_broker.url, tmp_path, store=store)  # type: ignore[attr-defined]
    reports = report_series(date(2023, 2, 1), 4)
    await _run_until_idle(pipeline_settings, reports[:2], tmp_path)
    # A new worker process recovers the ledger table from its changelog before it goes on.
    await _run_until_idle(pipeline_settings, reports[2:], tmp_path)
    deltas = await read_deltas(pipeline_settings)
    # Reports spread over partitions may reach the totals stage out of date order (a later
    # delta is then corrected); fold the stream the way the warehouse does.
    current = current_deltas(deltas).values()
    tanks = sorted((d for d in current if d.category is Category.tanks), key=lambda d: d.as_of)
    assert [d.as_of.day for d in tanks] == [1, 2, 3, 4]
    third = tanks[2]
    assert third.previous_as_of == date(2023, 2, 2)
    assert third.previous_total == figures_for(1)[Category.tanks]
    assert third.change == figures_for(2)[Category.tanks] - figures_for(1)[Category.tanks]
