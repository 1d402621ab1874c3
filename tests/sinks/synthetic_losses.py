"""Synthetic events for the warehouse tests, built from the contracts alone so these tests
do not wait on the parser and totals stages. Also imported by the concurrency test's writer
subprocess, hence a plain module rather than fixtures."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from attrition.contracts.events import (
    AlertEvent,
    DeadLetter,
    DeltaEvent,
    LossEvent,
    TextSpan,
    loss_event_id,
    stable_id,
)
from attrition.contracts.vocabulary import (
    AlertKind,
    Category,
    Claimant,
    DeadLetterReason,
    DeltaFlag,
    DocumentKind,
    Measure,
    QualityFlag,
    Severity,
    Subject,
)
from attrition.sinks.warehouse import WriteBatch

CATEGORIES = tuple(c for c in Category if c is not Category.other)
SOURCE = "test-report"


@dataclass(frozen=True)
class Figure:
    claimant: Claimant
    subject: Subject
    category: Category
    as_of: date
    total: int


def loss_event(f: Figure, source_kind: DocumentKind = DocumentKind.report) -> LossEvent:
    source_id = f"{SOURCE}-{f.as_of.isoformat()}"
    span_start = 100 * CATEGORIES.index(f.category) if f.category in CATEGORIES else 0
    measure = Measure.killed if f.category is Category.personnel else None
    text = f"{f.category.value} — {f.total}"
    return LossEvent(
        event_id=loss_event_id(source_id, f.claimant, f.subject, f.category, measure, span_start),
        source_id=source_id,
        source_kind=source_kind,
        claimant=f.claimant,
        subject=f.subject,
        category=f.category,
        label=f.category.value.replace("_", " "),
        as_of=f.as_of,
        total=f.total,
        delta=None,
        measure=measure,
        span=TextSpan(start=span_start, end=span_start + len(text), text=text),
        quality=[QualityFlag.matches_report] if f.total % 7 == 0 else [],
    )


def delta_event(
    f: Figure,
    previous: Figure | None,
    replaces: str | None = None,
    source_kind: DocumentKind = DocumentKind.report,
) -> DeltaEvent:
    prev_as_of = previous.as_of if previous else None
    prev_total = previous.total if previous else None
    flags = [DeltaFlag.correction] if replaces else []
    if previous and f.total < previous.total:
        flags.append(DeltaFlag.decrease)
    return DeltaEvent(
        delta_id=stable_id(
            "delta",
            f.claimant,
            f.subject,
            f.category,
            source_kind,
            f.as_of,
            prev_as_of,
            prev_total,
            f.total,
        ),
        claimant=f.claimant,
        subject=f.subject,
        category=f.category,
        source_kind=source_kind,
        as_of=f.as_of,
        total=f.total,
        previous_as_of=prev_as_of,
        previous_total=prev_total,
        change=None if previous is None else f.total - previous.total,
        reported_delta=None if previous is None else f.total - previous.total,
        days=None if previous is None else (f.as_of - previous.as_of).days,
        flags=flags,
        replaces=replaces,
        source_id=f"{SOURCE}-{f.as_of.isoformat()}",
        event_id=loss_event(f, source_kind).event_id,
    )


def alert_event(d: DeltaEvent) -> AlertEvent:
    return AlertEvent(
        alert_id=stable_id("alert", d.claimant, d.subject, d.category, d.as_of, "spike"),
        kind=AlertKind.spike,
        claimant=d.claimant,
        subject=d.subject,
        category=d.category,
        as_of=d.as_of,
        value=float(d.change or 0),
        baseline=1.5,
        score=4.25,
        threshold=3.5,
        severity=Severity.warning,
        explanation=f"{d.category.value}: {d.change} on {d.as_of}, far above the usual",
        delta_id=d.delta_id,
    )


def dead_letter(n: int) -> DeadLetter:
    return DeadLetter(
        dead_letter_id=stable_id("dead", n),
        reason=DeadLetterReason.not_json,
        detail=f"message {n} is not JSON",
        source_topic="attrition.raw.reports",
        source_key=None if n % 2 else f"key-{n}",
        payload_excerpt="{oops" * (n + 1),
        payload_size=5 * (n + 1),
        failed_at=datetime(2023, 5, 1, 12, n % 60, tzinfo=UTC),
    )


@dataclass(frozen=True)
class Year:
    """A run of daily report figures of one claimant and subject, as the pipeline emits them."""

    batches: list[WriteBatch]
    last: dict[Category, Figure]
    days: int

    @property
    def all_events(self) -> WriteBatch:
        return WriteBatch(
            loss_events=[e for b in self.batches for e in b.loss_events],
            deltas=[d for b in self.batches for d in b.deltas],
            alerts=[a for b in self.batches for a in b.alerts],
            dead_letters=[x for b in self.batches for x in b.dead_letters],
        )


def synthetic_year(
    start: date = date(2023, 1, 1),
    days: int = 365,
    days_per_batch: int = 30,
    claimant: Claimant = Claimant.ua_general_staff,
    subject: Subject = Subject.russia,
    seed: int = 6,
) -> Year:
    rng = random.Random(seed)
    last: dict[Category, Figure] = {}
    batches: list[WriteBatch] = []
    dead = 0
    for first in range(0, days, days_per_batch):
        losses, deltas, alerts, letters = [], [], [], []
        for offset in range(first, min(first + days_per_batch, days)):
            day = start + timedelta(days=offset)
            for category in CATEGORIES:
                previous = last.get(category)
                step = rng.randint(0, 1200 if category is Category.personnel else 40)
                total = (previous.total if previous else 1000) + step
                figure = Figure(claimant, subject, category, day, total)
                losses.append(loss_event(figure))
                delta = delta_event(figure, previous)
                deltas.append(delta)
                if step > (1150 if category is Category.personnel else 38):
                    alerts.append(alert_event(delta))
                last[category] = figure
            if offset % 45 == 0:
                letters.append(dead_letter(dead))
                dead += 1
        batches.append(WriteBatch(losses, deltas, alerts, letters))
    return Year(batches=batches, last=last, days=days)
