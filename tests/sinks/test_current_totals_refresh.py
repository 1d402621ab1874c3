"""`current_totals` after any sequence of writes is what reading every delta would give.

The refresh reads only the deltas at or after the earliest date the touched keys hold
(statements._refresh_totals). These writes mix what moves that bound: late days, corrections of
a key's latest day (its held delta superseded), corrections that name an earlier day, ties of
two live deltas of one day, a replacement that arrives before the delta it replaces, replays,
and keys and source kinds that first appear midway. After each write the table must hold, per
key, the live delta a full read picks: the latest as_of, then the larger delta_id."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from attrition.contracts.events import DeltaEvent
from attrition.contracts.vocabulary import Category, Claimant, DocumentKind, Subject
from attrition.sinks import statements
from attrition.sinks.warehouse import Warehouse, WriteBatch, open_warehouse
from synthetic_losses import Figure, delta_event

GS, RU = Claimant.ua_general_staff, Subject.russia
KEYS = (
    (Category.tanks, DocumentKind.report),
    (Category.personnel, DocumentKind.report),
    (Category.tanks, DocumentKind.article),
)
FIRST_DAY = date(2024, 3, 1)


def _key(row: dict[str, Any]) -> tuple[str, str, str, str]:
    return (row["claimant"], row["subject"], row["category"], row["source_kind"])


def expected_totals(deltas: list[dict[str, Any]]) -> dict[tuple[str, str, str, str], Any]:
    """Per key, the live delta a read of every row picks."""
    best: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in deltas:
        if row["superseded_by"] is not None:
            continue
        held = best.get(_key(row))
        if held is None or (row["as_of"], row["delta_id"]) > (held["as_of"], held["delta_id"]):
            best[_key(row)] = row
    return {k: (r["total"], r["as_of"], r["delta_id"]) for k, r in best.items()}


def _delta(rng: random.Random, category: Category, kind: DocumentKind, day: int) -> DeltaEvent:
    as_of = FIRST_DAY + timedelta(days=day)
    figure = Figure(GS, RU, category, as_of, rng.randrange(100, 10_000))
    previous = None
    if day and rng.random() < 0.7:
        previous = Figure(GS, RU, category, as_of - timedelta(days=1), rng.randrange(100, 10_000))
    return delta_event(figure, previous, source_kind=kind)


def _writes(seed: int, count: int) -> list[list[DeltaEvent]]:
    rng = random.Random(seed)
    sent: list[DeltaEvent] = []
    held_back: list[DeltaEvent] = []  # replaced deltas whose replacement went first
    writes: list[list[DeltaEvent]] = []
    newest = 0
    for n in range(count):
        batch: list[DeltaEvent] = []
        for _ in range(rng.randint(1, 5)):
            # The third key appears only halfway through.
            category, kind = rng.choice(KEYS if n >= count // 2 else KEYS[:2])
            roll = rng.random()
            if sent and roll < 0.25:
                # A correction, most often of the key's latest delta.
                mine = [d for d in sent if (d.category, d.source_kind) == (category, kind)]
                if not mine:
                    continue
                target = (
                    max(mine, key=lambda d: d.as_of) if rng.random() < 0.7 else rng.choice(mine)
                )
                day = (target.as_of - FIRST_DAY).days
                if rng.random() < 0.2:
                    # Of an earlier day: not what the totals stage sends (a correction is of
                    # its own day), but nothing in the table forbids it.
                    day = rng.randrange(0, day + 1)
                fixed = _delta(rng, category, kind, day)
                batch.append(fixed.model_copy(update={"replaces": target.delta_id}))
            elif sent and roll < 0.35:
                batch.append(rng.choice(sent))  # a replay
            elif roll < 0.45:
                # A replacement first; the delta it replaces comes in a later write.
                old = _delta(rng, category, kind, rng.randrange(0, newest + 2))
                fixed = _delta(rng, category, kind, (old.as_of - FIRST_DAY).days)
                batch.append(fixed.model_copy(update={"replaces": old.delta_id}))
                held_back.append(old)
            else:
                # A new day, or a late one, or a second live delta of a day.
                day = newest + 1 if rng.random() < 0.5 else rng.randrange(0, newest + 1)
                newest = max(newest, day)
                batch.append(_delta(rng, category, kind, day))
        if held_back and rng.random() < 0.5:
            batch.append(held_back.pop(rng.randrange(len(held_back))))
        sent.extend(batch)
        writes.append(batch)
    writes.append(held_back)
    return writes


async def _check(w: Warehouse) -> None:
    expected = expected_totals(await w.dump("deltas"))
    found = {
        _key(r): (r["total"], r["as_of"], r["delta_id"]) for r in await w.dump("current_totals")
    }
    assert found == expected


@pytest.mark.parametrize("seed", range(4))
async def test_current_totals_equal_a_full_read_after_every_write(
    warehouse_url: str, seed: int
) -> None:
    writes = _writes(seed, 40)
    async with open_warehouse(warehouse_url) as w:
        for batch in writes:
            await w.write(WriteBatch(deltas=batch))
            await _check(w)
        rows = await w.dump("deltas")
    # The run went through what the bound must handle.
    assert sum(r["superseded_by"] is not None for r in rows) >= 5
    days = {(_key(r), r["as_of"]) for r in rows if r["superseded_by"] is None}
    assert len(days) < sum(r["superseded_by"] is None for r in rows)  # two live deltas of a day
    assert len({_key(r) for r in rows}) == len(KEYS)


def _day(n: int) -> date:
    return FIRST_DAY + timedelta(days=n)


def _series(category: Category, days: range) -> list[DeltaEvent]:
    return [
        delta_event(
            Figure(GS, RU, category, _day(n), 100 + n),
            Figure(GS, RU, category, _day(n - 1), 99 + n) if n else None,
        )
        for n in days
    ]


async def _bound(w: Warehouse, *keys: tuple[Category, DocumentKind]) -> date:
    # The warehouse's own read path (both engines have it), for a statement no reader needs.
    touched = [(GS.value, RU.value, c.value, k.value) for c, k in keys]
    [row] = await w._query(*statements.refresh_bound_query(touched))
    as_of = row["as_of"]
    assert isinstance(as_of, date)
    return as_of


async def test_the_refresh_reads_from_the_earliest_date_the_touched_keys_hold(
    warehouse_url: str,
) -> None:
    # The results above are the same whatever the bound; this is the bound itself, the part
    # that keeps a write's cost from growing with the table.
    tanks, personnel, articles = KEYS
    async with open_warehouse(warehouse_url) as w:
        await w.write(WriteBatch(deltas=_series(Category.tanks, range(10))))
        await w.write(WriteBatch(deltas=_series(Category.personnel, range(6))))
        assert await _bound(w, tanks) == _day(9)
        assert await _bound(w, tanks, personnel) == _day(5)
        # A key that holds nothing yet is read whole.
        assert await _bound(w, tanks, articles) == date(1, 1, 1)
        # A late day does not move what a key holds.
        await w.write(WriteBatch(deltas=_series(Category.personnel, range(2, 3))))
        assert await _bound(w, personnel) == _day(5)

        # An article key whose only two deltas replace each other: no live delta is left, so
        # its row keeps pointing at a superseded one, and that key is read whole.
        first = delta_event(
            Figure(GS, RU, Category.tanks, _day(0), 100), None, source_kind=articles[1]
        )
        fixed = delta_event(
            Figure(GS, RU, Category.tanks, _day(0), 90), None, source_kind=articles[1]
        )
        await w.write(WriteBatch(deltas=[first]))
        assert await _bound(w, articles) == _day(0)
        await w.write(WriteBatch(deltas=[fixed.model_copy(update={"replaces": first.delta_id})]))
        await w.write(WriteBatch(deltas=[first.model_copy(update={"replaces": fixed.delta_id})]))
        assert {
            r["delta_id"]: r["superseded_by"]
            for r in await w.dump("deltas")
            if r["source_kind"] == articles[1].value
        } == {first.delta_id: fixed.delta_id, fixed.delta_id: first.delta_id}
        assert await _bound(w, articles) == date(1, 1, 1)
        assert await _bound(w, tanks, articles) == date(1, 1, 1)
        assert await _bound(w, tanks) == _day(9)
