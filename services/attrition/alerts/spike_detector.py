"""Spike and data-quality alerts on the daily changes of one claimant's running totals.

Per (claimant, subject, category) the detector keeps the clean daily rates of a trailing window
(`change / days`, keyed by the day they end on). A new rate is compared with the median of the
window's days strictly before its own day, scaled by the median absolute deviation (MAD):

    score = (rate − median) / max(1.4826 · MAD, √max(median, 1))

The √median term is the Poisson noise floor: counts of destroyed things are at least that noisy,
and without it a quiet stretch of identical days (MAD 0) turns any change into a huge score. A
spike needs score ≥ threshold *and* rate ≥ max(floor, min_ratio × median): the score says
"unusual for this series", the floor and ratio say "large enough for a reader to care".

A delta that is suspicious as data (a decrease, an official correction, a stated delta that
disagrees with the totals) raises a `data_quality` alert instead, never a spike, and its rate is
kept out of the window so a revision cannot inflate the baseline.

Late deltas: the baseline of a day only uses days before it, so a report that arrives late is
judged against what preceded it, exactly as if it had come in order; it then joins the window of
the later days. A day is judged once: when it arrives, or, if fewer than `min_history_days`
clean days precede it then, as soon as enough of them have arrived (a history replayed out of
order, a day that came before the reports of the weeks before it). Until then it waits, with
its delta, in the key's state. Deltas older than `horizon_days` behind the newest day seen are
ignored, and days still waiting that far back are dropped: their window is gone and their ids
may have been forgotten, so judging them could repeat an alert.
Ids of recent deltas and alerts are remembered (bounded) so a replay raises nothing twice.

The totals stage re-issues a day's delta (`replaces`, flagged `correction`) also when a late
report only moved its starting point; with the day's total unchanged that is no revision, so the
new rate simply replaces the old one in the window and is judged like any other.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, insort
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from attrition.alerts.settings import AlertSettings
from attrition.contracts.events import AlertEvent, DeltaEvent, stable_id
from attrition.contracts.vocabulary import AlertKind, Category, DeltaFlag, Severity

STATE_VERSION = 1
MAD_TO_SIGMA = 1.4826  # makes the MAD of a normal sample estimate its standard deviation

_DISPLAY_NAMES: dict[Category, str] = {
    Category.uav: "UAVs",
    Category.mlrs: "MLRS",
    Category.vehicles_fuel_tanks: "vehicles and fuel tanks",
    Category.mobile_srbm_systems: "mobile SRBM systems",
}


@dataclass(frozen=True)
class Baseline:
    """What a day is compared with: the window's median rate and robust scale."""

    median: float
    scale: float
    days: int


@dataclass
class _SeriesState:
    window: dict[date, float] = field(default_factory=dict)
    totals: dict[date, int] = field(default_factory=dict)  # last total seen per day
    seen: dict[str, date] = field(default_factory=dict)  # insertion order = age, for eviction
    newest: date | None = None
    # Clean rising days that came with too little history before them, by day: judged once
    # enough has arrived (see the module's docstring). In a history that comes in order only a
    # series' first days wait (nothing can come before them), until the horizon drops them.
    waiting: dict[date, DeltaEvent] = field(default_factory=dict)
    # Indexes derived from the three above (never stored, never compared): their days in
    # order, and `seen` as a heap of (day, id), so that the baseline reads just its days and
    # pruning pops just the expired ones instead of walking every entry on every new day.
    # `_rate_values[i]` is the rate of `_rate_days[i]`: a baseline's rates are one slice.
    _rate_days: list[date] = field(init=False, compare=False, repr=False)
    _rate_values: list[float] = field(init=False, compare=False, repr=False)
    _total_days: list[date] = field(init=False, compare=False, repr=False)
    _seen_heap: list[tuple[date, str]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._rate_days = sorted(self.window)
        self._rate_values = [self.window[day] for day in self._rate_days]
        self._total_days = sorted(self.totals)
        self._seen_heap = [(day, ident) for ident, day in self.seen.items()]
        heapq.heapify(self._seen_heap)

    def rates_between(self, start: date, end: date) -> list[float]:
        """The window's rates of the days in [start, end), oldest first."""
        days = self._rate_days
        return self._rate_values[bisect_left(days, start) : bisect_left(days, end)]

    def set_rate(self, day: date, rate: float) -> None:
        days = self._rate_days
        if day in self.window:
            self._rate_values[bisect_left(days, day)] = rate
        elif not days or days[-1] < day:  # the next day in order, the usual case
            days.append(day)
            self._rate_values.append(rate)
        else:
            at = bisect_left(days, day)
            days.insert(at, day)
            self._rate_values.insert(at, rate)
        self.window[day] = rate

    def drop_rate(self, day: date) -> None:
        if day in self.window:
            del self.window[day]
            at = bisect_left(self._rate_days, day)
            del self._rate_days[at]
            del self._rate_values[at]

    def set_total(self, day: date, total: int) -> None:
        if day not in self.totals:
            insort(self._total_days, day)
        self.totals[day] = total

    def remember(self, ident: str, day: date) -> None:
        self.seen[ident] = day
        heapq.heappush(self._seen_heap, (day, ident))

    def forget_before(self, oldest_kept: date) -> None:
        """Drop every day (and every id of a day) before `oldest_kept`."""
        for days, values in ((self._rate_days, self.window), (self._total_days, self.totals)):
            cut = bisect_left(days, oldest_kept)
            if not cut:
                continue
            for day in days[:cut]:
                del values[day]
            del days[:cut]
            if days is self._rate_days:
                del self._rate_values[:cut]
        if self.waiting:  # empty for nearly every call: no list built for nothing
            for day in [d for d in self.waiting if d < oldest_kept]:
                del self.waiting[day]
        heap = self._seen_heap
        while heap and heap[0][0] < oldest_kept:
            day, ident = heapq.heappop(heap)
            if self.seen.get(ident) == day:  # else evicted, or remembered again for another day
                del self.seen[ident]

    def to_plain(self) -> dict[str, Any]:
        plain: dict[str, Any] = {
            "newest": self.newest.isoformat() if self.newest else None,
            "window": {d.isoformat(): rate for d, rate in sorted(self.window.items())},
            "totals": {d.isoformat(): total for d, total in sorted(self.totals.items())},
            "seen": [[ident, d.isoformat()] for ident, d in self.seen.items()],
        }
        if self.waiting:  # absent when empty: a state written in order is as before
            plain["waiting"] = {
                d.isoformat(): delta.model_dump(mode="json")
                for d, delta in sorted(self.waiting.items())
            }
        return plain

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> _SeriesState:
        newest = plain.get("newest")
        return cls(
            window={date.fromisoformat(d): float(r) for d, r in plain.get("window", {}).items()},
            totals={date.fromisoformat(d): int(t) for d, t in plain.get("totals", {}).items()},
            seen={str(i): date.fromisoformat(d) for i, d in plain.get("seen", [])},
            newest=date.fromisoformat(newest) if newest else None,
            waiting={
                date.fromisoformat(d): DeltaEvent.model_validate(delta)
                for d, delta in plain.get("waiting", {}).items()
            },
        )


def alert_id(delta: DeltaEvent, kind: AlertKind) -> str:
    return stable_id("alert", delta.claimant, delta.subject, delta.category, delta.as_of, kind)


def display_name(category: Category) -> str:
    return _DISPLAY_NAMES.get(category, category.value.replace("_", " "))


class SpikeDetector:
    """Holds per-key state; `observe` each DeltaEvent, persist with `to_state` / `key_state`."""

    def __init__(self, settings: AlertSettings | None = None) -> None:
        self.settings = settings or AlertSettings()
        self._states: dict[str, _SeriesState] = {}
        # Read for every delta: built once from the settings (which a detector never changes).
        self._window_span = timedelta(days=self.settings.window_days)
        self._horizon = timedelta(days=self.settings.horizon_days)

    # -- state ------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """All keys' state as JSON-serialisable plain types."""
        return {
            "version": STATE_VERSION,
            "keys": {key: state.to_plain() for key, state in sorted(self._states.items())},
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], settings: AlertSettings | None = None
    ) -> SpikeDetector:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unknown spike-detector state version {state.get('version')!r}")
        detector = cls(settings)
        for key, plain in state.get("keys", {}).items():
            detector._states[key] = _SeriesState.from_plain(plain)
        return detector

    def key_state(self, key: str) -> dict[str, Any] | None:
        """One key's state (for a table keyed like the deltas topic), or None if never seen."""
        state = self._states.get(key)
        return state.to_plain() if state else None

    def load_key_state(self, key: str, plain: dict[str, Any] | None) -> None:
        """Replace one key's state with a stored one (None forgets the key)."""
        if plain is None:
            self._states.pop(key, None)
        else:
            self._states[key] = _SeriesState.from_plain(plain)

    # -- detection --------------------------------------------------------------------------

    def baseline(self, key: str, as_of: date) -> Baseline | None:
        """The baseline a change ending on `as_of` is judged against; None before min history."""
        state = self._states.get(key)
        rates = None if state is None else self._window(state, as_of)
        return None if rates is None else _baseline(rates, _median_of_sorted(rates))

    def _window(self, state: _SeriesState, as_of: date) -> list[float] | None:
        """The window's rates before `as_of`, sorted; None before min history."""
        rates = state.rates_between(as_of - self._window_span, as_of)
        if len(rates) < self.settings.min_history_days:
            return None
        rates.sort()
        return rates

    def observe(self, delta: DeltaEvent) -> list[AlertEvent]:
        key = delta.totals_key
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = _SeriesState()
        if delta.delta_id in state.seen:
            return []
        if state.newest is not None and delta.as_of < state.newest - self._horizon:
            return []
        self._remember(state, delta.delta_id, delta.as_of)
        if delta.change is None:
            return []  # the first total of a series: nothing to compare with

        days = _days_spanned(delta)
        rate = delta.change / days
        rates = self._window(state, delta.as_of)
        median = 0.0 if rates is None else _median_of_sorted(rates)
        rebased = self._is_rebase(state, delta)
        state.set_total(delta.as_of, delta.total)
        if state.waiting:
            state.waiting.pop(delta.as_of, None)  # this delta is the day's figure now
        if self._is_data_quality(delta, rebased):
            # The day's figure is suspect: whatever clean rate it had must not feed the baseline.
            state.drop_rate(delta.as_of)
            baseline = None if rates is None else _baseline(rates, median)
            return self._emit(state, self._data_quality_alert(delta, rate, days, baseline))
        state.set_rate(delta.as_of, rate)
        alerts = self._judge_waiting(state, delta.as_of) if state.waiting else []
        if rate <= 0:
            return alerts
        if rates is None:
            state.waiting[delta.as_of] = delta
            return alerts
        judged = self._judge(state, delta, rate, days, rates, median)
        return judged + alerts if alerts else judged

    def _judge(
        self,
        state: _SeriesState,
        delta: DeltaEvent,
        rate: float,
        days: int,
        rates: list[float],
        median: float,
    ) -> list[AlertEvent]:
        """A clean rising day against the window's sorted `rates` before it."""
        # Most days are below the size a spike needs whatever their score: the scale (a second
        # sort, over the deviations) is computed only for those that are not.
        if not self._large_enough(delta, rate, median):
            return []
        return self._emit(state, self._spike_alert(delta, rate, days, _baseline(rates, median)))

    def _judge_waiting(self, state: _SeriesState, added: date) -> list[AlertEvent]:
        """Judge the waiting days whose window a clean rate of `added` has just joined, if they
        now have enough history before them."""
        last = added + self._window_span
        alerts: list[AlertEvent] = []
        for waiting_day in sorted(d for d in state.waiting if added < d <= last):
            rates = self._window(state, waiting_day)
            if rates is None:
                continue
            delta = state.waiting.pop(waiting_day)
            days = _days_spanned(delta)
            rate = delta.change / days if delta.change is not None else 0.0
            alerts += self._judge(state, delta, rate, days, rates, _median_of_sorted(rates))
        return alerts

    def _large_enough(self, delta: DeltaEvent, rate: float, median: float) -> bool:
        """Whether a rate is large enough for a reader to care: max(floor, min_ratio × median)."""
        settings = self.settings
        return rate >= max(settings.floor_for(delta.category), settings.min_ratio * median)

    @staticmethod
    def _is_rebase(state: _SeriesState, delta: DeltaEvent) -> bool:
        """A new version of a day's delta whose total is unchanged: a late report filled the gap
        before it, so only its starting point moved. The totals stage flags that `correction`,
        but nothing was revised."""
        return delta.replaces is not None and state.totals.get(delta.as_of) == delta.total

    def _is_data_quality(self, delta: DeltaEvent, rebased: bool) -> bool:
        if delta.change is not None and delta.change < 0:
            return True
        ignored = {DeltaFlag.correction} if rebased else set()
        return any(
            flag in self.settings.data_quality_flags and flag not in ignored for flag in delta.flags
        )

    def _spike_alert(
        self, delta: DeltaEvent, rate: float, days: int, baseline: Baseline
    ) -> AlertEvent | None:
        """The spike alert of a rate already `_large_enough`, if its score reaches the
        threshold."""
        settings = self.settings
        threshold = settings.threshold_for(delta.category)
        floor = settings.floor_for(delta.category)
        score = (rate - baseline.median) / baseline.scale
        if score < threshold:
            return None
        critical = rate >= settings.critical_ratio * max(baseline.median, floor)
        if baseline.median > 0:
            comparison = (
                f"{rate / baseline.median:.1f}× the {settings.window_days}-day median of "
                f"{_number(baseline.median)}"
            )
        else:
            comparison = (
                f"against a {settings.window_days}-day median of 0 (floor {_number(floor)})"
            )
        explanation = (
            f"{_change_phrase(delta, rate, days)}: {comparison} "
            f"(robust score {score:.1f} ≥ {_number(threshold)})"
        )
        return AlertEvent(
            alert_id=alert_id(delta, AlertKind.spike),
            kind=AlertKind.spike,
            claimant=delta.claimant,
            subject=delta.subject,
            category=delta.category,
            as_of=delta.as_of,
            value=rate,
            baseline=baseline.median,
            score=score,
            threshold=threshold,
            severity=Severity.critical if critical else Severity.warning,
            explanation=explanation,
            delta_id=delta.delta_id,
        )

    def _data_quality_alert(
        self, delta: DeltaEvent, rate: float, days: int, baseline: Baseline | None
    ) -> AlertEvent:
        fell = (delta.change is not None and delta.change < 0) or DeltaFlag.decrease in delta.flags
        reasons: list[str] = []
        if fell:
            reasons.append(
                f"the cumulative total fell from {_number(delta.previous_total)} to "
                f"{_number(delta.total)}"
            )
        if DeltaFlag.correction in delta.flags:
            reasons.append("an official correction")
        if DeltaFlag.reported_delta_mismatch in delta.flags:
            reasons.append(
                f"the stated change {_signed(delta.reported_delta)} disagrees with the totals"
            )
        reasons.extend(
            f"flagged {flag.value}"
            for flag in delta.flags
            if flag in self.settings.data_quality_flags
            and flag
            not in (DeltaFlag.decrease, DeltaFlag.correction, DeltaFlag.reported_delta_mismatch)
        )
        return AlertEvent(
            alert_id=alert_id(delta, AlertKind.data_quality),
            kind=AlertKind.data_quality,
            claimant=delta.claimant,
            subject=delta.subject,
            category=delta.category,
            as_of=delta.as_of,
            value=rate,
            baseline=baseline.median if baseline else None,
            score=None,
            threshold=None,
            severity=Severity.warning if fell else Severity.info,
            explanation=f"{_change_phrase(delta, rate, days)}: {'; '.join(reasons)}",
            delta_id=delta.delta_id,
        )

    def _emit(self, state: _SeriesState, alert: AlertEvent | None) -> list[AlertEvent]:
        if alert is None or alert.alert_id in state.seen:
            return []
        self._remember(state, alert.alert_id, alert.as_of)
        return [alert]

    def _remember(self, state: _SeriesState, ident: str, day: date) -> None:
        state.remember(ident, day)
        if state.newest is None or day > state.newest:
            state.newest = day
            # Days behind the horizon can never be in a judged day's window again.
            state.forget_before(day - self._horizon)
        while len(state.seen) > self.settings.max_remembered_ids:
            del state.seen[next(iter(state.seen))]


def _baseline(rates: list[float], median: float) -> Baseline:
    """The baseline of a window's sorted rates and their median."""
    mad = _median_of_sorted(sorted([abs(rate - median) for rate in rates]))
    scale = max(MAD_TO_SIGMA * mad, math.sqrt(max(median, 1.0)))
    return Baseline(median=median, scale=scale, days=len(rates))


def _median_of_sorted(values: list[float]) -> float:
    """`statistics.median` of an already sorted list (the same arithmetic, without its sort)."""
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


def _days_spanned(delta: DeltaEvent) -> int:
    if delta.days is not None:
        return delta.days
    if delta.previous_as_of is not None:
        return max((delta.as_of - delta.previous_as_of).days, 1)
    return 1


def _change_phrase(delta: DeltaEvent, rate: float, days: int) -> str:
    name = display_name(delta.category)
    change = _signed(delta.change)
    if days == 1:
        return f"{name} {change} on {delta.as_of.isoformat()}"
    return f"{name} {change} over {days} days to {delta.as_of.isoformat()} ({_number(rate)}/day)"


def _signed(value: int | None) -> str:
    return "unknown" if value is None else f"{value:+d}".replace("-", "−")


def _number(value: float | None) -> str:
    if value is None:
        return "unknown"
    if abs(value - round(value)) < 0.05:
        return str(round(value))
    return f"{value:.1f}"
