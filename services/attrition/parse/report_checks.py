"""Meaning-level checks on report figures. They flag (`LossEvent.quality`) and never drop:
a doubtful figure is still a figure, and the totals stage decides what to trust."""

from __future__ import annotations

from collections.abc import Sequence, Set
from datetime import date

from attrition.contracts import trusted
from attrition.contracts.events import LossEvent
from attrition.contracts.vocabulary import Category, QualityFlag
from attrition.parse.label_table import WAR_START, categories_in_use
from attrition.parse.numbers import days_between


def with_flags(event: LossEvent, flags: Sequence[QualityFlag]) -> LossEvent:
    """The event with `flags` added to its quality (each flag once, order kept).

    Built from the event's own valid values (`trusted.event`): `model_copy` deep-walks the
    model in Python, and a report dated after a category appeared but not listing it (or any
    report a check doubts) flags every one of its figures."""
    new = [flag for flag in dict.fromkeys(flags) if flag not in event.quality]
    if not new:
        return event
    return trusted.event({**event.__dict__, "quality": [*event.quality, *new]})


def document_in_doubt(as_of: date, today: date, categories: Set[Category]) -> bool:
    """Whether `check_document` would flag anything: the same tests, without building the
    flags and warnings (the parser asks this of every report, and almost none are)."""
    return as_of > today or as_of < WAR_START or not categories_in_use(as_of) <= categories


def check_document(
    events: Sequence[LossEvent],
    *,
    as_of: date,
    today: date,
    categories: Set[Category] | None = None,
) -> tuple[list[LossEvent], list[str]]:
    """Flags that concern a whole report: its date, and categories it should list but does
    not (per the label table's in-use dates). Returns the events and warnings to add.

    `categories`, the events' categories, may be passed by a caller that already has them
    (reading an attribute of a pydantic model is slow enough to matter per report)."""
    flags: list[QualityFlag] = []
    warnings: list[str] = []
    if as_of > today:
        flags.append(QualityFlag.as_of_in_future)
        warnings.append(f"as_of {as_of} lies after today ({today})")
    if as_of < WAR_START:
        flags.append(QualityFlag.as_of_before_war)
        warnings.append(f"as_of {as_of} lies before the war began ({WAR_START})")
    present = categories if categories is not None else {event.category for event in events}
    expected = categories_in_use(as_of)
    if not expected <= present:
        missing = sorted(category.value for category in expected - present)
        flags.append(QualityFlag.categories_missing)
        warnings.append(f"categories missing for {as_of}: {', '.join(missing)}")
    if not flags:
        return list(events), warnings
    return [with_flags(event, flags) for event in events], warnings


def check_against_previous(
    event: LossEvent, previous_as_of: date, previous_total: int
) -> LossEvent:
    """Flags from comparing a figure with the same running total's previous value:
    `total_below_previous` when a cumulative figure shrank, `delta_mismatch` when the stated
    one-day change disagrees with total − previous_total. Gaps longer than a day are not
    judged: the stated delta covers only the last day."""
    if event.total is None:
        return event
    flags: list[QualityFlag] = []
    if event.total < previous_total:
        flags.append(QualityFlag.total_below_previous)
    if (
        event.delta is not None
        and days_between(previous_as_of, event.as_of) == 1
        and event.total - previous_total != event.delta
    ):
        flags.append(QualityFlag.delta_mismatch)
    return with_flags(event, flags)
