"""Running totals through the real broker stay right when the world misbehaves: shuffled
order, duplicates, a revision, a worker killed mid-stream, two workers sharing partitions."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from attrition.contracts.events import RawDocument
from attrition.contracts.vocabulary import Category, DeltaFlag
from attrition.contracts.wire import encode
from attrition.ingest.document_files import classify_line
from attrition.ingest.publisher import publish
from attrition.settings import Settings
from attrition.sinks.warehouse import open_warehouse
from attrition.stream.worker_process import WorkerProcess, wait_until_idle
from isolated_settings import isolated_settings
from pipeline_helpers import read_deltas, run_until_idle
from report_fixtures import figures_for, render_report, report_series

pytestmark = pytest.mark.integration


async def _publish_raw(settings: Settings, docs: Sequence[RawDocument]) -> None:
    """Publish every document as given, duplicates included (the producer would drop them)."""
    for doc in docs:
        await publish([classify_line(encode(doc))], settings)


async def _warehouse_state(settings: Settings) -> tuple[dict[Category, tuple[int, date]], set[str]]:
    async with open_warehouse(settings.warehouse) as warehouse:
        totals = {r.category: (r.total, r.as_of) for r in await warehouse.current_totals()}
        return totals, await warehouse.delta_ids(current_only=True)


async def _pipeline(settings: Settings, docs: list[RawDocument], log: Path) -> None:
    await run_until_idle(settings, docs, log, publish_with=_publish_raw)


async def test_shuffled_year_with_duplicates_equals_the_ordered_year(
    embedded_broker: object, tmp_path: Path
) -> None:
    year = report_series(date(2023, 1, 1), 365, id_prefix="year")
    rng = random.Random(20230101)
    shuffled = year + rng.sample(year, len(year) // 10)
    rng.shuffle(shuffled)

    ordered_settings = isolated_settings(embedded_broker.url, tmp_path / "ordered")  # type: ignore[attr-defined]
    shuffled_settings = isolated_settings(embedded_broker.url, tmp_path / "shuffled")  # type: ignore[attr-defined]
    await asyncio.gather(
        _pipeline(ordered_settings, year, tmp_path / "ordered.log"),
        _pipeline(shuffled_settings, shuffled, tmp_path / "shuffled.log"),
    )
    ordered_totals, ordered_ids = await _warehouse_state(ordered_settings)
    shuffled_totals, shuffled_ids = await _warehouse_state(shuffled_settings)

    assert ordered_totals == shuffled_totals
    assert ordered_totals[Category.tanks] == (figures_for(364)[Category.tanks], date(2023, 12, 31))
    assert len(ordered_ids) == 365 * 13
    assert shuffled_ids == ordered_ids


async def test_revision_emits_a_correction_for_that_day_and_the_next(
    pipeline_settings: Settings, tmp_path: Path
) -> None:
    days = report_series(date(2023, 3, 1), 3, id_prefix="rev")
    revised_figures = dict(figures_for(1))
    revised_figures[Category.tanks] -= 2  # the General Staff revises day 2's tanks downwards
    # The same post, edited: same document id, new text.
    revised = RawDocument(
        id="rev-2023-03-02",
        kind="report",
        published=date(2023, 3, 2),
        text=render_report(date(2023, 3, 2), revised_figures, figures_for(0)),
    )
    await _pipeline(pipeline_settings, [*days, days[0], revised], tmp_path / "w.log")
    deltas = await read_deltas(pipeline_settings)
    tanks = [d for d in deltas if d.category is Category.tanks]
    corrections = [d for d in tanks if DeltaFlag.correction in d.flags]
    assert sorted(d.as_of.day for d in corrections) == [2, 3]
    assert all(d.replaces for d in corrections)
    totals, _ = await _warehouse_state(pipeline_settings)
    assert totals[Category.tanks] == (figures_for(2)[Category.tanks], date(2023, 3, 3))


async def test_figures_with_long_lines_travel_in_messages_that_fit(
    embedded_broker: object, tmp_path: Path
) -> None:
    """A year of one key whose every figure carries a 20,000-character line: far over a 1 MB
    message in one batch, so the publisher and the stages split it; every figure arrives."""
    from attrition.contracts.batches import MAX_BATCH_BYTES
    from attrition.ingest.publisher import publish_loss_events
    from attrition.parse.document_parser import parse_document
    from pipeline_helpers import read_loss_events, read_topic

    settings = isolated_settings(embedded_broker.url, tmp_path)  # type: ignore[attr-defined]
    long_line = "tanks ‒ 3000 " + "x" * 19_990
    tanks = [
        e.model_copy(update={"span": e.span.model_copy(update={"text": long_line})})
        for doc in report_series(date(2023, 1, 1), 120, id_prefix="long")
        for e in parse_document(doc)[0]
        if e.category is Category.tanks
    ]
    worker = WorkerProcess(settings, log_path=tmp_path / "worker.log").start()
    try:
        await publish_loss_events(tanks, settings)
        await wait_until_idle(settings, timeout_s=120, worker=worker)
    finally:
        assert worker.stop() == 0, (tmp_path / "worker.log").read_text()[-3000:]
    on_topic = await read_topic(settings, settings.topics.loss_events)
    assert len(on_topic) > 1 and all(len(v) <= MAX_BATCH_BYTES for _, v in on_topic)
    assert [e for _, e in await read_loss_events(settings)] == tanks
    assert len([d for d in await read_deltas(settings) if d.category is Category.tanks]) == 120


async def test_a_ledger_too_large_for_one_record_stops_the_worker_saying_so(
    embedded_broker: object, tmp_path: Path
) -> None:
    # A key's ledger is its whole history in one changelog record. Past the record limit (here
    # the smallest allowed, 64 KiB: some 1,900 days of reports compressed) Faust's producer
    # refused the record and the totals stage hung, alive and silent.
    settings = isolated_settings(
        embedded_broker.url,  # type: ignore[attr-defined]
        tmp_path,
        max_record_bytes=65_536,
    )
    log = tmp_path / "worker.log"
    worker = WorkerProcess(settings, log_path=log).start()
    try:
        docs = report_series(date(2020, 1, 1), 2_400, id_prefix="big")
        await publish([classify_line(encode(d)) for d in docs], settings)
        deadline = asyncio.get_running_loop().time() + 120
        while worker.alive() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.3)
        assert not worker.alive(), "the worker is still running: " + log.read_text()[-3000:]
    finally:
        code = worker.stop()
    assert code not in (0, None)
    text = log.read_text(errors="replace")
    assert "more than one record may hold (ATTRITION_MAX_RECORD_BYTES, 65,536" in text
    assert "MessageSizeTooLargeError" not in text
