"""totals/ledger_rebuild.py: a key's ledger made again from its loss events, and the deltas of
it that the warehouse lacks, sent as the totals stage would have sent them."""

from __future__ import annotations

import random
from datetime import date, timedelta

from test_totals_ledger import START, loss

from attrition.contracts.events import LossEvent
from attrition.contracts.vocabulary import Category, Claimant, DeltaFlag, DocumentKind, Subject
from attrition.totals.ledger_rebuild import (
    HeldDelta,
    deltas_missing,
    held_delta,
    rebuilt_ledger,
)
from attrition.totals.totals_ledger import TotalsLedger

KEY = (Claimant.ua_general_staff, Subject.russia, Category.tanks)


def _events() -> list[LossEvent]:
    reports = [loss(day, 3000 + 10 * day, 10) for day in range(6)]
    article = loss(2, 3025, None, source="news-1", official=False, kind=DocumentKind.article)
    return [*reports, article]


def _held(ledger: TotalsLedger) -> dict[tuple[DocumentKind, date], list[HeldDelta]]:
    """What a warehouse that took every delta of `ledger` holds as current."""
    return {
        (kind, d.as_of): [held_delta(d.delta_id, d.flags, d.source_id, d.event_id)]
        for kind in DocumentKind
        for d in ledger.current_deltas_of(kind)
    }


def test_a_rebuilt_ledger_is_the_ledger_whatever_the_order() -> None:
    events = _events()
    kept = TotalsLedger(*KEY)
    for event in events:
        kept.apply(event)
    shuffled = list(events)
    random.Random(3).shuffle(shuffled)
    assert rebuilt_ledger(*KEY, shuffled).to_bytes() == kept.to_bytes()


def test_nothing_is_missing_when_the_warehouse_holds_every_current_delta() -> None:
    ledger = rebuilt_ledger(*KEY, _events())
    assert deltas_missing(ledger, _held(ledger)) == []


def test_days_the_warehouse_lacks_are_sent_as_the_ledger_yields_them() -> None:
    events = _events()
    ledger = rebuilt_ledger(*KEY, events)
    # The warehouse took the first two days only (25 and 26 February): the stage that applied
    # the rest failed before it sent their deltas.
    held = _held(rebuilt_ledger(*KEY, [e for e in events if e.as_of <= START + timedelta(days=1)]))
    missing = deltas_missing(ledger, held)
    wanted = [
        d
        for kind in DocumentKind
        for d in ledger.current_deltas_of(kind)
        if (kind, d.as_of) not in held
    ]
    assert missing == wanted and len(missing) == 5  # four report days and the article's day
    assert all(d.replaces is None for d in missing)


def test_a_new_delta_id_replaces_the_days_current_one_with_a_correction() -> None:
    events = _events()
    revised = loss(3, 3033, None, source="gs-0-revised")  # an official figure ranked first
    ledger = rebuilt_ledger(*KEY, [*events, revised])
    held = _held(rebuilt_ledger(*KEY, events))  # the warehouse never saw the revision
    missing = deltas_missing(ledger, held)
    # The revised day's delta and the next day's (its previous total moved) have new ids.
    assert [d.as_of for d in missing] == [START + timedelta(days=3), START + timedelta(days=4)]
    for delta in missing:
        [old] = held[(DocumentKind.report, delta.as_of)]
        assert delta.replaces == old.delta_id != delta.delta_id
        assert DeltaFlag.correction in delta.flags


def test_the_same_delta_id_with_other_flags_is_sent_again_as_it_is() -> None:
    events = _events()
    disagreeing = loss(3, 3031, None, source="agg-3", official=False)
    ledger = rebuilt_ledger(*KEY, [*events, disagreeing])
    held = _held(rebuilt_ledger(*KEY, events))
    [again] = deltas_missing(ledger, held)
    [old] = held[(DocumentKind.report, again.as_of)]
    assert again.delta_id == old.delta_id and again.replaces is None
    assert DeltaFlag.source_disagreement in again.flags
