"""DuckDB writes a batch's rows as plain inserts first and upserts only when one of them is
there already (duckdb_sink.write_batch): the tables end exactly as the upserts leave them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import pytest

from attrition.contracts.batches import chunks, encode_delta_batch, encode_loss_batch
from attrition.contracts.events import DeltaEvent, LossEvent, TextSpan
from attrition.contracts.vocabulary import Category, Claimant, DocumentKind, Subject
from attrition.sinks import duckdb_sink, statements
from attrition.sinks.duckdb_sink import ConflictWatch, DuckDbWarehouse, write_batch
from attrition.sinks.warehouse import TABLES, WriteBatch
from attrition.totals.totals_ledger import TotalsLedger


def _losses(days: range, category: Category = Category.tanks) -> list[LossEvent]:
    return [
        LossEvent(
            event_id=f"{category.value}-{day}",
            source_id=f"report-{day}",
            source_kind=DocumentKind.report,
            claimant=Claimant.ua_general_staff,
            subject=Subject.russia,
            category=category,
            as_of=date(2024, 1, 1) + timedelta(days=day),
            total=1000 + 7 * day,
            delta=7,
            span=TextSpan(start=0, end=4, text="1000"),
        )
        for day in days
    ]


def _deltas(losses: list[LossEvent]) -> list[DeltaEvent]:
    ledger = TotalsLedger.for_event(losses[0])
    return [delta for event in losses for delta in ledger.apply(event)]


def _batch(losses: list[LossEvent], deltas: list[DeltaEvent]) -> WriteBatch:
    """A batch as the sinks receive it: the events with the messages that hold them."""
    return WriteBatch(
        loss_events=losses,
        deltas=deltas,
        loss_event_frames=[encode_loss_batch(part) for part in chunks(losses, 4)],
        delta_frames=[encode_delta_batch(part) for part in chunks(deltas, 4)],
    )


def _steps(batch: WriteBatch) -> list[statements.Step]:
    steps = statements.write_steps(batch, framed=True)
    assert any(isinstance(step, statements.FramedUpsert) for step in steps)
    return steps


def _new() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    duckdb_sink.migrate(con)
    return con


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


def _record_runs(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The `insert_only` of every transaction `write_batch` runs, in order."""
    runs: list[bool] = []
    run = duckdb_sink.run_steps

    def recorded(con: Any, steps: Any, *, insert_only: bool = False) -> None:
        runs.append(insert_only)
        run(con, steps, insert_only=insert_only)

    monkeypatch.setattr(duckdb_sink, "run_steps", recorded)
    return runs


def test_new_rows_are_inserted_as_the_upserts_insert_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    losses = _losses(range(10))
    batch = _batch(losses, _deltas(losses))
    watch = ConflictWatch()
    plain, upserted = _new(), _new()
    runs = _record_runs(monkeypatch)
    write_batch(plain, _steps(batch), watch)
    assert runs == [True]  # one transaction, of plain inserts
    duckdb_sink.run_steps(upserted, _steps(batch))
    assert watch.upsert_until == 0.0  # no row was there: no fallback
    assert len(_tables(plain)["loss_events"]) == 10
    assert len(_tables(plain)["deltas"]) == 10
    assert _tables(plain) == _tables(upserted)


def test_a_replayed_batch_falls_back_to_upserts_and_changes_no_row() -> None:
    losses = _losses(range(10))
    batch = _batch(losses, _deltas(losses))
    watch = ConflictWatch()
    con = _new()
    write_batch(con, _steps(batch), watch)
    once = _tables(con)
    write_batch(con, _steps(batch), watch)
    assert watch.upsert_until > 0.0
    assert _tables(con) == once
    # A replay that overlaps new rows: the new ones are written, the old ones left as they are.
    more = _losses(range(5, 15))
    ledger_deltas = _deltas(_losses(range(15)))
    write_batch(con, _steps(_batch(more, ledger_deltas[5:])), watch)
    reference = _new()
    duckdb_sink.run_steps(reference, _steps(batch))
    duckdb_sink.run_steps(reference, _steps(_batch(more, ledger_deltas[5:])))
    assert len(_tables(con)["loss_events"]) == 15
    assert _tables(con) == _tables(reference)


def test_after_the_fallback_window_plain_inserts_are_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    losses = _losses(range(6))
    batch = _batch(losses, _deltas(losses))
    watch = ConflictWatch()
    con = _new()
    write_batch(con, _steps(batch), watch)
    write_batch(con, _steps(batch), watch)
    first_fallback = watch.upsert_until
    # Inside the window a replay is upserted at once: nothing fails, the window stays.
    write_batch(con, _steps(batch), watch)
    assert watch.upsert_until == first_fallback
    later = first_fallback + 1.0
    monkeypatch.setattr(duckdb_sink.time, "monotonic", lambda: later)
    write_batch(con, _steps(batch), watch)
    assert watch.upsert_until == later + duckdb_sink.UPSERT_AFTER_CONFLICT_SECONDS
    assert len(_tables(con)["loss_events"]) == 6


def test_a_resent_delta_updates_its_row_and_keeps_its_replaces_link() -> None:
    losses = _losses(range(3))
    deltas = _deltas(losses)
    corrected = deltas[2].model_copy(
        update={"delta_id": "corrected", "replaces": deltas[2].delta_id}
    )
    resent = corrected.model_copy(update={"replaces": None, "source_id": "official"})
    watch = ConflictWatch()
    con, reference = _new(), _new()
    for part in (_batch(losses, [*deltas, corrected]), _batch([], [resent])):
        steps = statements.write_steps(part, framed=True)
        write_batch(con, steps, watch)
        duckdb_sink.run_steps(reference, steps)
    assert watch.upsert_until > 0.0
    rows = {r[0]: r for r in _tables(con)["deltas"]}
    columns = [c for c, _ in duckdb_sink.column_types(con, "deltas").items()]
    row = dict(zip(columns, rows["corrected"], strict=True))
    assert row["source_id"] == "official"
    assert row["replaces"] == deltas[2].delta_id
    assert _tables(con) == _tables(reference)


def test_a_row_that_breaks_another_constraint_still_fails_the_write() -> None:
    losses = _losses(range(2))
    frame = encode_loss_batch(losses).replace(b'"source_id":"report-1"', b'"source_id":null')
    batch = WriteBatch(loss_events=losses, loss_event_frames=[frame])
    con = _new()
    with pytest.raises(duckdb.ConstraintException, match="NOT NULL"):
        write_batch(con, _steps(batch), ConflictWatch())
    assert _tables(con)["loss_events"] == []


async def test_the_warehouse_writes_a_replay_once(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    losses = _losses(range(8))
    batch = _batch(losses, _deltas(losses))
    warehouse = DuckDbWarehouse(str(tmp_path / "w.duckdb"), hold_seconds=2.0)
    await warehouse.open()
    runs = _record_runs(monkeypatch)
    try:
        await warehouse.write(batch)
        once = await warehouse.counts()
        await warehouse.write(batch)
        # Plain inserts, then for the replay plain inserts that failed and the upserts.
        assert runs == [True, True, False]
        assert await warehouse.counts() == once
        assert once["loss_events"] == 8
        assert once["deltas"] == 8
    finally:
        await warehouse.close()
