"""The detector's derived indexes (days in order, ids in a heap) always say what a walk over
its plain state would: the baseline reads the same days, pruning drops the same entries."""

from __future__ import annotations

import random
from datetime import date, timedelta

from attrition.alerts.settings import AlertSettings
from attrition.alerts.spike_detector import SpikeDetector
from attrition.bench.load import loss_events, series_holding
from attrition.totals.totals_ledger import TotalsLedger


def test_indexes_match_the_plain_state_through_shuffles_repeats_and_evictions() -> None:
    settings = AlertSettings(window_days=7, horizon_days=20, max_remembered_ids=16)
    events = list(loss_events(series_holding(13 * 120, id_prefix="idx")))
    rng = random.Random(11)
    events = events + rng.sample(events, 200)
    rng.shuffle(events)
    ledgers: dict[str, TotalsLedger] = {}
    detector = SpikeDetector(settings)
    for n, event in enumerate(events):
        ledger = ledgers.setdefault(event.totals_key, TotalsLedger.for_event(event))
        for delta in ledger.apply(event):
            detector.observe(delta)
        if n % 50:
            continue
        for key, state in detector._states.items():
            assert state._rate_days == sorted(state.window)
            assert state._rate_values == [state.window[day] for day in state._rate_days]
            assert state._total_days == sorted(state.totals)
            assert state.newest is not None
            oldest_kept = state.newest - timedelta(days=settings.horizon_days)
            assert all(day >= oldest_kept for day in [*state.window, *state.totals])
            assert all(day >= oldest_kept for day in state.seen.values())
            assert len(state.seen) <= settings.max_remembered_ids
            live = {(day, ident) for ident, day in state.seen.items()}
            assert live <= set(state._seen_heap)
            start, end = state.newest - timedelta(days=9), state.newest
            walked = [r for d, r in state.window.items() if start <= d < end]
            assert sorted(state.rates_between(start, end)) == sorted(walked)
            # The stored form rebuilds the same indexes.
            detector.load_key_state(key, detector.key_state(key))
            assert detector._states[key]._rate_days == state._rate_days
            assert detector._states[key]._rate_values == state._rate_values


def test_rates_between_takes_the_half_open_range() -> None:
    detector = SpikeDetector(AlertSettings())
    detector.load_key_state(
        "k",
        {"newest": "2023-01-05", "window": {f"2023-01-0{d}": float(d) for d in range(1, 6)}},
    )
    state = detector._states["k"]
    assert state.rates_between(date(2023, 1, 2), date(2023, 1, 4)) == [2.0, 3.0]


def test_rates_stay_with_their_days_through_set_drop_and_forget() -> None:
    detector = SpikeDetector(AlertSettings())
    detector.load_key_state(
        "k", {"newest": "2023-01-07", "window": {"2023-01-02": 2.0, "2023-01-05": 5.0}}
    )
    state = detector._states["k"]
    state.set_rate(date(2023, 1, 6), 6.0)  # after the last day
    state.set_rate(date(2023, 1, 1), 1.0)  # before the first
    state.set_rate(date(2023, 1, 3), 3.0)  # between two
    state.set_rate(date(2023, 1, 5), 50.0)  # a day's rate replaced
    state.drop_rate(date(2023, 1, 2))
    state.drop_rate(date(2023, 1, 4))  # never had one
    every = (date(2023, 1, 1), date(2023, 1, 8))
    assert state.rates_between(*every) == [1.0, 3.0, 50.0, 6.0]
    state.forget_before(date(2023, 1, 4))
    assert state.rates_between(*every) == [50.0, 6.0]
    assert state.window == {date(2023, 1, 5): 50.0, date(2023, 1, 6): 6.0}
