"""Replay a structured history through the spike detector and measure what it would have said.

The history becomes the DeltaEvents the totals stage would have emitted: one per category and
known day, the change since the previous known day (`days` > 1 across a missing day, flagged
`gap`). A date in the official corrections file marks each category it revised: that day's delta
carries `correction` (and `decrease` when the total fell), because its change mixes the day's
losses with a revision of earlier days and says nothing reliable about either. A fall in a total
without an official correction is flagged `decrease` alone.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from attrition.alerts.settings import AlertSettings
from attrition.alerts.spike_detector import Baseline, SpikeDetector, display_name
from attrition.contracts.events import AlertEvent, DeltaEvent, stable_id, totals_key
from attrition.contracts.vocabulary import (
    AlertKind,
    Category,
    Claimant,
    DeltaFlag,
    DocumentKind,
    Subject,
)
from attrition.history.petroivaniuk import History, history_loss_events, source_id_for

CLAIMANT = Claimant.ua_general_staff
SUBJECT = Subject.russia

# The "obvious spike" that the detector must catch, as the project's issue 7 defines it.
OBVIOUS_RATIO = 3.0
OBVIOUS_MIN_MEDIAN = 10.0
OBVIOUS_WINDOW_DAYS = 28


@dataclass(frozen=True)
class BacktestResult:
    category_days: int
    """Deltas with a change (the first known day of a category has none)."""
    alerts: list[AlertEvent]
    baselines: dict[Category, list[tuple[date, Baseline]]] = field(default_factory=dict)
    """Per category, the baseline each day was judged against (for the plot)."""
    window_days: int = 28

    def of_kind(self, kind: AlertKind) -> list[AlertEvent]:
        return [a for a in self.alerts if a.kind is kind]

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable summary: the category-days judged and every alert."""
        return {
            "category_days": self.category_days,
            "alerts": [
                {
                    "category": a.category.value,
                    "as_of": a.as_of.isoformat(),
                    "kind": a.kind.value,
                    "value": a.value,
                    "baseline": a.baseline,
                    "score": a.score,
                    "explanation": a.explanation,
                }
                for a in self.alerts
            ],
        }


def history_deltas(history: History) -> Iterator[DeltaEvent]:
    """The history as a stream of DeltaEvents in date order (categories interleaved)."""
    event_ids = {(e.category, e.as_of): e.event_id for e in history_loss_events(history)}
    per_day: dict[date, list[DeltaEvent]] = defaultdict(list)
    for category, series in history.series.items():
        previous: tuple[date, int] | None = None
        for day, total in series.items():
            per_day[day].append(
                _delta(history, category, day, total, previous, event_ids[(category, day)])
            )
            previous = (day, total)
    for day in sorted(per_day):
        yield from per_day[day]


def run_backtest(history: History, settings: AlertSettings) -> BacktestResult:
    detector = SpikeDetector(settings)
    alerts: list[AlertEvent] = []
    baselines: dict[Category, list[tuple[date, Baseline]]] = defaultdict(list)
    category_days = 0
    for delta in history_deltas(history):
        if delta.change is not None:
            category_days += 1
            key = totals_key(delta.claimant, delta.subject, delta.category)
            baseline = detector.baseline(key, delta.as_of)
            if baseline is not None:
                baselines[delta.category].append((delta.as_of, baseline))
        alerts.extend(detector.observe(delta))
    return BacktestResult(
        category_days=category_days,
        alerts=alerts,
        baselines=dict(baselines),
        window_days=settings.window_days,
    )


def obvious_spikes(history: History) -> set[tuple[Category, date]]:
    """Days whose change is ≥ 3× the category's trailing 28-day median, that median ≥ 10."""
    found: set[tuple[Category, date]] = set()
    for category in history.series:
        rates = [(day, change / days) for day, change, days in history.changes(category)]
        for i, (day, rate) in enumerate(rates):
            start = day - timedelta(days=OBVIOUS_WINDOW_DAYS)
            if start < rates[0][0]:
                continue  # no full 28 days of changes behind it yet
            window = [r for d, r in rates[max(0, i - OBVIOUS_WINDOW_DAYS) : i] if d >= start]
            median = statistics.median(window)
            if median >= OBVIOUS_MIN_MEDIAN and rate >= OBVIOUS_RATIO * median:
                found.add((category, day))
    return found


def score_backtest(result: BacktestResult, history: History) -> dict[str, float | int]:
    """The four done-when figures of issue 7, with the counts behind them."""
    spikes = {(a.category, a.as_of) for a in result.of_kind(AlertKind.spike)}
    quality_days = {a.as_of for a in result.of_kind(AlertKind.data_quality)}
    obvious = obvious_spikes(history)
    decreases = {
        (category, day)
        for category in history.series
        for day, change, _ in history.changes(category)
        if change < 0
    }
    corrections = set(history.corrections)
    return {
        "category_days": result.category_days,
        "spike_alerts": len(spikes),
        "spike_rate": _ratio(len(spikes), result.category_days),
        "obvious_spikes": len(obvious),
        "obvious_spikes_alerted": len(obvious & spikes),
        "obvious_recall": _ratio(len(obvious & spikes), len(obvious)),
        "decreases": len(decreases),
        "decreases_called_spike": len(decreases & spikes),
        "correction_dates": len(corrections),
        "correction_dates_alerted": len(corrections & quality_days),
        "correction_recall": _ratio(len(corrections & quality_days), len(corrections)),
    }


def render_text(result: BacktestResult, scores: dict[str, float | int] | None = None) -> str:
    """The alert days per category, then the rates (and the done-when figures when given)."""
    by_category: dict[Category, list[AlertEvent]] = defaultdict(list)
    for alert in result.alerts:
        by_category[alert.category].append(alert)
    lines: list[str] = []
    for category in sorted(by_category, key=lambda c: c.value):
        alerts = sorted(by_category[category], key=lambda a: a.as_of)
        spikes = [a for a in alerts if a.kind is AlertKind.spike]
        quality = [a for a in alerts if a.kind is AlertKind.data_quality]
        lines.append(f"{display_name(category)}: {len(spikes)} spike, {len(quality)} data-quality")
        for alert in alerts:
            marker = "SPIKE" if alert.kind is AlertKind.spike else "DQ   "
            lines.append(f"  {marker} {alert.explanation}")
    spike_count = len(result.of_kind(AlertKind.spike))
    quality_count = len(result.of_kind(AlertKind.data_quality))
    lines.append(
        f"{result.category_days} category-days: {spike_count} spike alerts "
        f"({_ratio(spike_count, result.category_days):.2%}), {quality_count} data-quality alerts"
    )
    if scores is not None:
        lines.append(
            f"obvious spikes alerted {scores['obvious_spikes_alerted']}/{scores['obvious_spikes']} "
            f"({scores['obvious_recall']:.1%}); decreases called spike "
            f"{scores['decreases_called_spike']}/{scores['decreases']}; correction dates alerted "
            f"{scores['correction_dates_alerted']}/{scores['correction_dates']} "
            f"({scores['correction_recall']:.1%})"
        )
    return "\n".join(lines)


def _delta(
    history: History,
    category: Category,
    day: date,
    total: int,
    previous: tuple[date, int] | None,
    event_id: str,
) -> DeltaEvent:
    previous_day, previous_total = previous if previous else (None, None)
    change = total - previous_total if previous_total is not None else None
    days = (day - previous_day).days if previous_day is not None else None
    flags: list[DeltaFlag] = []
    if history.corrections.get(day, {}).get(category):
        flags.append(DeltaFlag.correction)
    if change is not None and change < 0:
        flags.append(DeltaFlag.decrease)
    if days is not None and days > 1:
        flags.append(DeltaFlag.gap)
    return DeltaEvent(
        delta_id=stable_id(
            "delta", CLAIMANT, SUBJECT, category, day, previous_day, previous_total, total
        ),
        claimant=CLAIMANT,
        subject=SUBJECT,
        category=category,
        source_kind=DocumentKind.report,
        as_of=day,
        total=total,
        previous_as_of=previous_day,
        previous_total=previous_total,
        change=change,
        days=days,
        flags=flags,
        source_id=source_id_for(day),
        event_id=event_id,
    )


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
