"""Unit tests of the totals ledger: arrival order, revisions, disagreement, state round trips."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from attrition.contracts.events import DeltaEvent, LossEvent, TextSpan, loss_event_id
from attrition.contracts.vocabulary import (
    Category,
    Claimant,
    DeltaFlag,
    DocumentKind,
    Measure,
    Subject,
)
from attrition.totals.totals_ledger import (
    CurrentTotal,
    TotalsLedger,
    current_deltas,
)

START = date(2022, 2, 25)
KEY = "ua_general_staff/russia/tanks"


def loss(
    day: int,
    total: int | None,
    delta: int | None = None,
    *,
    source: str | None = None,
    official: bool = True,
    kind: DocumentKind = DocumentKind.report,
    category: Category = Category.tanks,
    measure: Measure | None = None,
    span_start: int = 0,
) -> LossEvent:
    """A figure for day `day` after START; sources default to one bulletin per day."""
    as_of = START + timedelta(days=day)
    source_id = source or f"gs-{as_of.isoformat()}"
    return LossEvent(
        event_id=loss_event_id(
            source_id, Claimant.ua_general_staff, Subject.russia, category, measure, span_start
        ),
        source_id=source_id,
        source_kind=kind,
        claimant=Claimant.ua_general_staff,
        subject=Subject.russia,
        category=category,
        as_of=as_of,
        total=total,
        delta=delta,
        measure=measure,
        official=official,
        span=TextSpan(start=span_start, end=span_start + 1, text="x"),
    )


def ledger() -> TotalsLedger:
    return TotalsLedger(Claimant.ua_general_staff, Subject.russia, Category.tanks)


def feed(led: TotalsLedger, events: list[LossEvent]) -> list[DeltaEvent]:
    return [d for e in events for d in led.apply(e)]


def year() -> list[LossEvent]:
    """365 daily bulletins whose stated delta matches the change, with irregular steps."""
    totals = [200 + sum((i * 7) % 13 for i in range(n + 1)) for n in range(365)]
    return [loss(n, totals[n], None if n == 0 else totals[n] - totals[n - 1]) for n in range(365)]


def folded_ids(deltas: list[DeltaEvent]) -> set[str]:
    return {d.delta_id for d in current_deltas(deltas).values()}


def test_in_order_year_emits_one_clean_delta_per_day() -> None:
    events = year()
    led = ledger()
    per_event = [led.apply(e) for e in events]
    assert all(len(out) == 1 for out in per_event)
    first = per_event[0][0]
    assert first.previous_as_of is None and first.change is None and first.days is None
    assert first.total == events[0].total and first.flags == []
    for prev_event, out in zip(events, per_event[1:], strict=False):
        (delta,) = out
        assert delta.previous_total == prev_event.total
        assert delta.change == delta.reported_delta
        assert delta.days == 1 and delta.flags == [] and delta.replaces is None
    last = events[-1]
    assert led.current_total() == CurrentTotal(
        KEY, DocumentKind.report, last.as_of, last.total or -1, per_event[-1][0].delta_id
    )
    current = led.current()
    assert current is not None and current.delta_id == per_event[-1][0].delta_id


def test_reversed_year_converges_to_in_order_deltas() -> None:
    events = year()
    in_order = feed(ledger(), events)
    led = ledger()
    backwards = feed(led, events[::-1])
    assert folded_ids(backwards) == {d.delta_id for d in in_order}
    assert [d.delta_id for d in led.current_deltas_of()] == [d.delta_id for d in in_order]
    # Every day but the latest arrives after a later one; the day after it is corrected.
    late = [d for d in backwards if DeltaFlag.late in d.flags]
    corrections = [d for d in backwards if DeltaFlag.correction in d.flags]
    assert len(late) == len(corrections) == 364
    assert all(c.replaces is not None for c in corrections)


def test_duplicate_figure_emits_nothing() -> None:
    led = ledger()
    assert len(led.apply(loss(0, 100, 3))) == 1
    assert led.apply(loss(0, 100, 3)) == []
    assert led.apply(loss(0, None, 3)) == []


def test_late_report_emits_its_delta_and_corrects_the_next_day() -> None:
    led = ledger()
    feed(led, [loss(0, 100), loss(1, 104, 4)])
    (gap_delta,) = led.apply(loss(3, 110, 3))
    assert gap_delta.days == 2 and DeltaFlag.gap in gap_delta.flags
    assert DeltaFlag.reported_delta_mismatch not in gap_delta.flags

    own, corrected = led.apply(loss(2, 107, 3))
    assert own.as_of == START + timedelta(days=2)
    assert own.previous_total == 104 and own.change == 3 and own.days == 1
    assert own.flags == [DeltaFlag.late]
    assert corrected.as_of == gap_delta.as_of and corrected.replaces == gap_delta.delta_id
    assert corrected.previous_total == 107 and corrected.change == 3 and corrected.days == 1
    assert corrected.flags == [DeltaFlag.correction]


def test_revision_corrects_that_day_and_the_next() -> None:
    led = ledger()
    d0, d1, d2 = feed(led, [loss(0, 100), loss(1, 104, 4), loss(2, 109, 5)])
    fixed, next_fixed = led.apply(loss(1, 105, 5))
    assert fixed.replaces == d1.delta_id and fixed.total == 105 and fixed.change == 5
    assert fixed.flags == [DeltaFlag.correction, DeltaFlag.late]  # day 2 was already known
    assert next_fixed.replaces == d2.delta_id and next_fixed.previous_total == 105
    assert next_fixed.change == 4
    assert next_fixed.flags == [DeltaFlag.reported_delta_mismatch, DeltaFlag.correction]
    stream = [d0, d1, d2, fixed, next_fixed]
    assert folded_ids(stream) == {d.delta_id for d in led.current_deltas_of()}


def test_reverted_revision_revives_the_first_delta() -> None:
    led = ledger()
    stream = feed(led, [loss(0, 100), loss(1, 104, 4)])
    stream += led.apply(loss(1, 105, 4))
    stream += led.apply(loss(1, 104, 4))
    assert stream[-1].delta_id == stream[1].delta_id
    assert stream[-1].replaces == stream[2].delta_id
    assert folded_ids(stream) == {stream[0].delta_id, stream[1].delta_id}


@pytest.mark.parametrize("official_first", [True, False])
def test_official_figure_wins_over_aggregator_in_either_order(official_first: bool) -> None:
    official = loss(1, 110, 10)
    aggregator = loss(1, 111, 11, source="aggregator-0001", official=False)
    led = ledger()
    stream = led.apply(loss(0, 100))
    pair = [official, aggregator] if official_first else [aggregator, official]
    stream += feed(led, pair)
    current = current_deltas(stream)[(KEY, DocumentKind.report, official.as_of)]
    assert current.total == 110 and current.source_id == official.source_id
    assert current.event_id == official.event_id
    assert DeltaFlag.source_disagreement in current.flags
    other = ledger()
    other.apply(loss(0, 100))
    other.apply(official)
    assert current.delta_id == (other.current() or pytest.fail("no delta")).delta_id


def test_equal_sources_choose_the_lowest_source_id() -> None:
    a = loss(0, 50, source="agg-a", official=False)
    b = loss(0, 51, source="agg-b", official=False)
    forward, backward = ledger(), ledger()
    feed(forward, [a, b])
    feed(backward, [b, a])
    assert forward.current() == backward.current()
    assert (forward.current() or pytest.fail("no delta")).source_id == "agg-a"


def test_delta_only_events_fill_reported_delta_but_move_no_total() -> None:
    led = ledger()
    led.apply(loss(0, 100))
    assert led.apply(loss(1, None, 4, source="tweet")) == []
    (d1,) = led.apply(loss(1, 104))
    assert d1.reported_delta == 4 and d1.flags == []
    assert led.apply(loss(2, None, 9, source="tweet")) == []
    assert led.current_total() == CurrentTotal(KEY, DocumentKind.report, d1.as_of, 104, d1.delta_id)
    (d2,) = led.apply(loss(2, 110))
    assert d2.reported_delta == 9 and d2.flags == [DeltaFlag.reported_delta_mismatch]
    # The delta the chosen bulletin states itself takes precedence: a new version of the day.
    (d2b,) = led.apply(loss(2, None, 6))
    assert d2b.replaces == d2.delta_id and d2b.reported_delta == 6 and d2b.total == 110
    assert d2b.flags == [DeltaFlag.correction]
    # Restating the delta without the total from the same bulletin changes nothing.
    assert led.apply(loss(2, None, 6)) == []


def test_article_figures_never_touch_report_totals() -> None:
    led = ledger()
    reports = feed(led, [loss(0, 100), loss(1, 104, 4)])
    article = loss(1, 150, source="news-1", official=False, kind=DocumentKind.article)
    (from_article,) = led.apply(article)
    assert from_article.source_kind is DocumentKind.article
    assert from_article.previous_as_of is None
    assert DeltaFlag.source_disagreement not in from_article.flags
    assert led.current(DocumentKind.report) == led.current_deltas_of()[-1]
    report_now = led.current(DocumentKind.report)
    assert report_now is not None and report_now.delta_id == reports[-1].delta_id
    assert led.apply(loss(2, 109, 5)) != []
    totals = led.current_total(DocumentKind.article)
    assert totals is not None and totals.total == 150
    assert len(current_deltas([*reports, from_article])) == 3


def test_decrease_and_first_delta_flags() -> None:
    led = ledger()
    (first,) = led.apply(loss(0, 100, 7))
    assert first.flags == [] and first.reported_delta == 7
    (drop,) = led.apply(loss(1, 90, 2))
    assert drop.change == -10
    assert drop.flags == [DeltaFlag.reported_delta_mismatch, DeltaFlag.decrease]


def test_only_casualty_figures_feed_the_total() -> None:
    led = TotalsLedger(Claimant.ua_general_staff, Subject.russia, Category.personnel)
    killed = loss(0, 40, category=Category.personnel, measure=Measure.killed, span_start=9)
    assert led.apply(killed) == []
    total = loss(0, 400, category=Category.personnel, measure=Measure.casualties)
    assert [d.total for d in led.apply(total)] == [400]


def test_event_of_another_key_is_refused() -> None:
    with pytest.raises(ValueError, match="ua_general_staff/russia/aircraft"):
        ledger().apply(loss(0, 1, category=Category.aircraft))


def test_round_trip_mid_stream_gives_the_same_outputs() -> None:
    events = year()[:60]
    events[30:30] = [loss(20, 999, source="agg", official=False), loss(5, 1, source="gs-x")]
    straight = ledger()
    expected = [straight.apply(e) for e in events]
    led = ledger()
    got = []
    for e in events:
        got.append(led.apply(e))
        led = TotalsLedger.from_bytes(led.to_bytes())
    assert got == expected
    assert led.to_bytes() == straight.to_bytes()


def test_from_bytes_refuses_other_payloads() -> None:
    with pytest.raises(ValueError, match="version-1"):
        TotalsLedger.from_bytes(b'{"v": 99}')


def test_state_stays_small_after_1600_days() -> None:
    # Speed is measured by `attrition bench`, not here; the size bound is a correctness matter
    # (the state is written to the changelog).
    led = ledger()
    for n in range(1600):
        led.apply(loss(n, 1000 * (n + 1), 1000))
    assert len(led.to_bytes()) < 1600 * 100
