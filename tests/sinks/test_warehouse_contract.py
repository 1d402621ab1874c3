"""The warehouse contract: the same tests against DuckDB and PostgreSQL (`warehouse_url`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from attrition.contracts.vocabulary import Category, Claimant, DocumentKind, Subject
from attrition.sinks.migrations import DAILY_LOSSES_CATEGORIES_V1, LATEST_VERSION
from attrition.sinks.warehouse import TABLES, Warehouse, WriteBatch, open_warehouse
from synthetic_losses import (
    CATEGORIES,
    Figure,
    Year,
    alert_event,
    dead_letter,
    delta_event,
    loss_event,
    synthetic_year,
)

GS, RU = Claimant.ua_general_staff, Subject.russia


async def write_all(w: Warehouse, batches: list[WriteBatch]) -> None:
    for batch in batches:
        await w.write(batch)


async def dump_all(w: Warehouse) -> dict[str, list[dict[str, Any]]]:
    return {table: await w.dump(table) for table in (*TABLES, "daily_losses")}


def tanks(day: int, total: int) -> Figure:
    return Figure(GS, RU, Category.tanks, date(2024, 3, 1) + timedelta(days=day), total)


def test_view_columns_match_the_vocabulary() -> None:
    # A new category needs a migration that recreates the view; this says so when one is added.
    assert list(DAILY_LOSSES_CATEGORIES_V1) == [c.value for c in CATEGORIES]


def test_unknown_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported warehouse URL"):
        open_warehouse("sqlite:///x.db")


async def test_schema_is_migrated_once(warehouse_url: str) -> None:
    first = open_warehouse(warehouse_url)
    async with first:
        assert first.applied_on_open == [LATEST_VERSION]
        assert await first.schema_version() == LATEST_VERSION
        assert await first.counts() == dict.fromkeys(TABLES, 0)
    again = open_warehouse(warehouse_url)
    async with again:
        assert again.applied_on_open == []
        assert await again.schema_version() == LATEST_VERSION


async def test_a_year_in_batches(warehouse_url: str, year: Year) -> None:
    async with open_warehouse(warehouse_url) as w:
        await write_all(w, year.batches)
        everything = year.all_events
        assert await w.counts() == {
            "loss_events": year.days * len(CATEGORIES),
            "deltas": year.days * len(CATEGORIES),
            "alerts": len(everything.alerts),
            "dead_letters": len(everything.dead_letters),
            "current_totals": len(CATEGORIES),
        }
        assert everything.alerts and everything.dead_letters

        rows = await w.daily_losses()
        assert len(rows) == year.days
        assert list(rows[0])[:3] == ["as_of", "claimant", "subject"]
        assert list(rows[0])[3:] == [c.value for c in CATEGORIES]
        assert rows[0]["as_of"] == date(2023, 1, 1)
        final = rows[-1]
        assert final["as_of"] == date(2023, 12, 31)
        assert {c: final[c.value] for c in CATEGORIES} == {c: f.total for c, f in year.last.items()}
        assert await w.daily_losses(GS, Subject.ukraine) == []

        totals = await w.current_totals(GS, RU)
        assert [(t.category, t.total, t.as_of) for t in totals] == sorted(
            ((c, f.total, f.as_of) for c, f in year.last.items()), key=lambda r: r[0].value
        )
        assert await w.current_totals(Claimant.ru_mod) == []
        assert await w.delta_ids() == {d.delta_id for d in everything.deltas}


async def test_writing_everything_twice_changes_no_row(warehouse_url: str) -> None:
    data = synthetic_year(days=60, days_per_batch=7)
    async with open_warehouse(warehouse_url) as w:
        await write_all(w, data.batches)
        once = await dump_all(w)
        await write_all(w, data.batches)
        await w.write(data.all_events)  # the same events, grouped differently
        assert await dump_all(w) == once
        assert len(once["deltas"]) == 60 * len(CATEGORIES)


async def test_correction_supersedes_and_wins(warehouse_url: str) -> None:
    d0 = delta_event(tanks(0, 100), None)
    d1 = delta_event(tanks(1, 110), tanks(0, 100))
    fixed = delta_event(tanks(1, 108), tanks(0, 100), replaces=d1.delta_id)
    async with open_warehouse(warehouse_url) as w:
        await w.write(WriteBatch(deltas=[d0, d1]))
        assert (await w.current_totals())[0].total == 110
        await w.write(WriteBatch(loss_events=[loss_event(tanks(1, 108))], deltas=[fixed]))
        assert await w.delta_ids() == {d0.delta_id, fixed.delta_id}
        assert await w.delta_ids(current_only=False) == {d0.delta_id, d1.delta_id, fixed.delta_id}
        [total] = await w.current_totals()
        assert (total.total, total.as_of, total.delta_id) == (108, fixed.as_of, fixed.delta_id)
        assert [r["tanks"] for r in await w.daily_losses()] == [100, 108]
        superseded = {r["delta_id"]: r["superseded_by"] for r in await w.dump("deltas")}
        assert superseded == {d0.delta_id: None, d1.delta_id: fixed.delta_id, fixed.delta_id: None}


@pytest.mark.parametrize("order", ["replay-after", "same-batch", "correction-first"])
async def test_an_old_version_stays_superseded(warehouse_url: str, order: str) -> None:
    old = delta_event(tanks(5, 150), None)
    fixed = delta_event(tanks(5, 149), None, replaces=old.delta_id)
    async with open_warehouse(warehouse_url) as w:
        if order == "replay-after":
            await w.write(WriteBatch(deltas=[old]))
            await w.write(WriteBatch(deltas=[fixed]))
            await w.write(WriteBatch(deltas=[old]))
        elif order == "same-batch":
            await w.write(WriteBatch(deltas=[fixed, old]))
        else:
            await w.write(WriteBatch(deltas=[fixed]))
            await w.write(WriteBatch(deltas=[old]))
        assert await w.delta_ids() == {fixed.delta_id}
        [total] = await w.current_totals()
        assert (total.total, total.delta_id) == (149, fixed.delta_id)
        assert [r["tanks"] for r in await w.daily_losses()] == [149]


async def test_current_totals_follow_the_latest_date(warehouse_url: str) -> None:
    figures = [tanks(day, 100 + 3 * day) for day in range(10)]
    deltas = [delta_event(f, figures[i - 1] if i else None) for i, f in enumerate(figures)]
    late_report = delta_event(Figure(GS, RU, Category.tanks, tanks(-30, 0).as_of, 40), None)
    article = delta_event(tanks(12, 200), None, source_kind=DocumentKind.article)
    async with open_warehouse(warehouse_url) as w:
        await w.write(WriteBatch(deltas=deltas[:6]))
        await w.write(WriteBatch(deltas=deltas[6:]))
        await w.write(WriteBatch(deltas=[deltas[2], late_report]))  # replay, then an older day
        await w.write(WriteBatch(deltas=[article]))
        totals = await w.current_totals(GS, RU)
        assert [(t.source_kind, t.total, t.as_of) for t in totals] == [
            (DocumentKind.article, 200, article.as_of),
            (DocumentKind.report, 127, figures[-1].as_of),
        ]
        # The view holds report figures only, one row per day.
        view = await w.daily_losses()
        assert [r["as_of"] for r in view] == [late_report.as_of] + [f.as_of for f in figures]
        assert view[-1]["tanks"] == 127 and view[-1]["personnel"] is None


@pytest.mark.parametrize("larger_first", [True, False])
async def test_two_live_deltas_of_the_latest_day_tie_to_the_larger_id(
    warehouse_url: str, larger_first: bool
) -> None:
    # A replay after lost state re-sends a day's first delta without `replaces`: two live rows
    # of one day. Both engines, in either order of arrival, pick the larger delta_id.
    base = delta_event(tanks(0, 100), None)
    one = delta_event(tanks(1, 110), tanks(0, 100))
    other = delta_event(tanks(1, 112), tanks(0, 100))
    smaller, larger = sorted((one, other), key=lambda d: d.delta_id)
    first, second = (larger, smaller) if larger_first else (smaller, larger)
    async with open_warehouse(warehouse_url) as w:
        await w.write(WriteBatch(deltas=[base, first]))
        await w.write(WriteBatch(deltas=[second]))
        [total] = await w.current_totals()
        assert (total.total, total.delta_id) == (larger.total, larger.delta_id)


async def test_alerts_upsert_and_dead_letters_keep_time(warehouse_url: str) -> None:
    delta = delta_event(tanks(1, 130), tanks(0, 100))
    alert = alert_event(delta)
    reworded = alert.model_copy(update={"explanation": "tanks: 30, recomputed baseline"})
    letters = [dead_letter(n) for n in range(3)]
    async with open_warehouse(warehouse_url) as w:
        await w.write(WriteBatch(deltas=[delta], alerts=[alert], dead_letters=letters))
        await w.write(WriteBatch(alerts=[reworded], dead_letters=letters))
        [stored] = await w.dump("alerts")
        assert stored["explanation"] == "tanks: 30, recomputed baseline"
        assert (stored["value"], stored["score"]) == (30.0, 4.25)
        assert stored["delta_id"] == delta.delta_id
        dumped = {d["dead_letter_id"]: d for d in await w.dump("dead_letters")}
        assert {i: d["failed_at"] for i, d in dumped.items()} == {
            x.dead_letter_id: x.failed_at for x in letters
        }
        assert dumped[letters[1].dead_letter_id]["source_key"] is None
        assert await w.counts() == {
            "loss_events": 0, "deltas": 1, "alerts": 1, "dead_letters": 3, "current_totals": 1
        }  # fmt: skip


async def test_lists_round_trip_as_json_text(warehouse_url: str) -> None:
    flagged = loss_event(tanks(0, 7))  # a multiple of 7 carries a quality flag
    plain = loss_event(tanks(1, 8))
    async with open_warehouse(warehouse_url) as w:
        await w.write(WriteBatch(loss_events=[flagged, plain]))
        quality = {r["event_id"]: r["quality"] for r in await w.dump("loss_events")}
        assert quality == {flagged.event_id: '["matches_report"]', plain.event_id: "[]"}


async def test_an_empty_batch_is_a_no_op(warehouse_url: str) -> None:
    async with open_warehouse(warehouse_url) as w:
        await w.write(WriteBatch())
        assert await w.counts() == dict.fromkeys(TABLES, 0)


async def test_in_memory_duckdb_is_private_to_one_open() -> None:
    delta = delta_event(tanks(0, 100), None)
    async with open_warehouse("duckdb:///:memory:") as w:
        await w.write(WriteBatch(deltas=[delta]))
        assert await w.delta_ids() == {delta.delta_id}
    async with open_warehouse("duckdb:///:memory:") as w:
        assert await w.delta_ids() == set()


@pytest.mark.postgres
async def test_both_engines_hold_identical_rows(tmp_path, postgres_url: str, year: Year) -> None:
    dumps = []
    for url in (f"duckdb:///{tmp_path / 'w.duckdb'}", postgres_url):
        async with open_warehouse(url) as w:
            await write_all(w, year.batches)
            dumps.append(await dump_all(w))
    duck, pg = dumps
    for table in duck:
        assert duck[table] == pg[table], table
    assert len(duck["daily_losses"]) == year.days


@pytest.mark.postgres
async def test_postgres_reconnects_after_the_connection_is_lost(postgres_url: str) -> None:
    d0, d1 = delta_event(tanks(0, 100), None), delta_event(tanks(1, 104), tanks(0, 100))
    async with open_warehouse(postgres_url) as w:
        await w.write(WriteBatch(deltas=[d0]))
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        with pytest.raises(psycopg.OperationalError):
            await w.write(WriteBatch(deltas=[d1]))
        await w.write(WriteBatch(deltas=[d1]))  # the sink agent's retry of the failed batch
        assert [t.total for t in await w.current_totals()] == [104]


async def test_a_keys_loss_events_and_current_deltas_read_back(warehouse_url: str) -> None:
    """What `attrition state rebuild` reads: every loss event of one key, as it was written,
    and its current deltas by day (a superseded one left out, another key's never in)."""
    figures = [tanks(day, 3000 + 7 * day) for day in range(4)]  # day 0 and 1 carry a flag
    losses = [loss_event(f) for f in figures]
    first = delta_event(figures[1], figures[0])
    revised = tanks(1, 3009)
    correction = delta_event(revised, figures[0], replaces=first.delta_id)
    other = Figure(GS, RU, Category.aircraft, date(2024, 3, 1), 300)
    async with open_warehouse(warehouse_url) as w:
        await w.write(
            WriteBatch(
                loss_events=[*losses, loss_event(other)],
                deltas=[
                    first,
                    correction,
                    delta_event(figures[2], revised),
                    delta_event(other, None),
                ],
            )
        )
        key = (GS, RU, Category.tanks)
        assert await w.loss_events_of(*key) == losses
        held = await w.current_deltas_of(*key)
    assert sorted(held) == [(DocumentKind.report, f.as_of) for f in figures[1:3]]
    [day_1] = held[(DocumentKind.report, figures[1].as_of)]
    assert day_1.delta_id == correction.delta_id
    assert day_1.flags == frozenset()  # `correction` records arrival, not content
    assert day_1.source_id == correction.source_id and day_1.event_id == correction.event_id
