"""Properties of the totals ledger: whatever order figures arrive in, with duplicates and
state round trips between them, the warehouse ends up holding the same current deltas."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attrition.contracts.events import DeltaEvent, LossEvent, TextSpan, loss_event_id
from attrition.contracts.vocabulary import Category, Claimant, DeltaFlag, DocumentKind, Subject
from attrition.totals.totals_ledger import DeltaSlot, TotalsLedger, current_deltas

START = date(2023, 1, 1)
HISTORY_FLAGS = {DeltaFlag.correction, DeltaFlag.late}


def loss(
    day: int,
    total: int | None,
    delta: int | None,
    source: str,
    *,
    official: bool = True,
    kind: DocumentKind = DocumentKind.report,
    span_start: int = 0,
) -> LossEvent:
    return LossEvent(
        event_id=loss_event_id(
            source, Claimant.ua_general_staff, Subject.russia, Category.uav, None, span_start
        ),
        source_id=source,
        source_kind=kind,
        claimant=Claimant.ua_general_staff,
        subject=Subject.russia,
        category=Category.uav,
        as_of=START + timedelta(days=day),
        total=total,
        delta=delta,
        official=official,
        span=TextSpan(start=span_start, end=span_start + 1, text="x"),
    )


@st.composite
def histories(draw: st.DrawFn) -> list[LossEvent]:
    """Bulletins with gaps, drops and wrong stated deltas; some state the delta on a separate
    line; aggregators restate (sometimes wrongly) and articles quote their own figures.
    Each (source, day) states one figure, as documents do."""
    events: list[LossEvent] = []
    total = draw(st.integers(0, 5_000))
    day = 0
    for _ in range(draw(st.integers(1, 40))):
        day += draw(st.sampled_from([1, 1, 1, 1, 2, 3]))
        step = draw(st.integers(-5, 60))
        total = max(0, total + step)
        source = f"gs-{day:04d}"
        stated = draw(st.sampled_from([step, step, None, step + 1]))
        if draw(st.booleans()):
            events.append(loss(day, total, stated, source))
        else:
            events.append(loss(day, total, None, source))
            if stated is not None:
                events.append(loss(day, None, stated, source, span_start=40))
        if draw(st.integers(0, 4)) == 0:
            agg_total = max(0, total + draw(st.sampled_from([0, 0, 1, -2])))
            events.append(loss(day, agg_total, None, f"agg-{day:04d}", official=False))
        if draw(st.integers(0, 5)) == 0:
            events.append(loss(day, None, draw(st.integers(0, 60)), f"tweet-{day:04d}"))
        if draw(st.integers(0, 5)) == 0:
            events.append(
                loss(
                    day,
                    max(0, total + draw(st.integers(-10, 10))),
                    None,
                    f"news-{day:04d}",
                    official=False,
                    kind=DocumentKind.article,
                )
            )
    return events


def disorder(events: list[LossEvent], rng: random.Random) -> list[LossEvent]:
    """Shuffled, with a tenth of the events sent twice."""
    shuffled = list(events)
    shuffled += rng.sample(events, len(events) // 10)
    rng.shuffle(shuffled)
    return shuffled


def run(
    events: list[LossEvent], rng: random.Random | None = None
) -> tuple[TotalsLedger, list[DeltaEvent]]:
    """Apply the stream; with `rng`, restore the ledger from bytes at random points."""
    led = TotalsLedger(Claimant.ua_general_staff, Subject.russia, Category.uav)
    emitted: list[DeltaEvent] = []
    for event in events:
        emitted += led.apply(event)
        if rng is not None and rng.random() < 0.3:
            led = TotalsLedger.from_bytes(led.to_bytes())
    return led, emitted


def content(delta: DeltaEvent) -> DeltaEvent:
    """A delta without what records its arrival history."""
    flags = [f for f in delta.flags if f not in HISTORY_FLAGS]
    return delta.model_copy(update={"flags": flags, "replaces": None})


def settled(deltas: list[DeltaEvent]) -> dict[DeltaSlot, DeltaEvent]:
    return {slot: content(d) for slot, d in current_deltas(deltas).items()}


def state_view(led: TotalsLedger) -> dict[DeltaSlot, DeltaEvent]:
    return settled(
        led.current_deltas_of(DocumentKind.report) + led.current_deltas_of(DocumentKind.article)
    )


def assert_converged(events: list[LossEvent], rng: random.Random) -> None:
    in_order = sorted(events, key=lambda e: e.as_of)
    reference, reference_stream = run(in_order)
    expected = settled(reference_stream)
    assert expected == state_view(reference)

    shuffled_led, shuffled_stream = run(disorder(events, rng), rng)
    assert settled(shuffled_stream) == expected
    assert state_view(shuffled_led) == expected
    assert shuffled_led.to_bytes() == reference.to_bytes()
    for kind in DocumentKind:
        assert shuffled_led.current_total(kind) == reference.current_total(kind)


@settings(max_examples=60, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_any_order_with_duplicates_and_restores_converges(
    events: list[LossEvent], rng: random.Random
) -> None:
    assert_converged(events, rng)


@settings(max_examples=30, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_every_apply_leaves_emitted_equal_to_state(
    events: list[LossEvent], rng: random.Random
) -> None:
    led = TotalsLedger(Claimant.ua_general_staff, Subject.russia, Category.uav)
    emitted: list[DeltaEvent] = []
    for event in disorder(events, rng):
        emitted += led.apply(event)
        assert settled(emitted) == state_view(led)


@pytest.mark.parametrize("seed", [1, 7, 2024, 31337])
def test_shuffled_year_with_duplicates_matches_in_order(seed: int) -> None:
    rng = random.Random(seed)
    events: list[LossEvent] = []
    total = 300
    for day in range(365):
        step = rng.randint(0, 30)
        total += step
        events.append(loss(day, total, step, f"gs-{day:04d}"))
        if day % 11 == 0:
            events.append(loss(day, total + 1, None, f"agg-{day:04d}", official=False))
    assert_converged(events, rng)
    _, stream = run(disorder(events, rng))
    current = current_deltas(stream).values()
    disagreeing = {d.as_of for d in current if DeltaFlag.source_disagreement in d.flags}
    assert disagreeing == {START + timedelta(days=day) for day in range(0, 365, 11)}
    assert all(d.source_id.startswith("gs-") for d in current)


@settings(max_examples=60, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_a_ledger_restored_after_every_event_emits_what_one_kept_in_memory_emits(
    events: list[LossEvent], rng: random.Random
) -> None:
    """A stored ledger keeps the event id of each day's chosen figure only
    (ledger_state._encode_stale_days): no delta may ever point at an id it dropped."""
    stream = disorder(events, rng)
    _, kept = run(stream)
    led = TotalsLedger(Claimant.ua_general_staff, Subject.russia, Category.uav)
    restored: list[DeltaEvent] = []
    for event in stream:
        restored += led.apply(event)
        led = TotalsLedger.from_bytes(led.to_bytes())
    assert restored == kept
    assert {d.event_id for d in restored} <= {e.event_id for e in events}
