"""The values the sinks hand both engines: enums as plain text, lists as JSON text, and a loss
event's row read back into the same event."""

from __future__ import annotations

from datetime import date

import orjson

from attrition.contracts.events import DeltaEvent, LossEvent, TextSpan
from attrition.contracts.vocabulary import (
    Category,
    Claimant,
    DeltaFlag,
    DocumentKind,
    Measure,
    QualityFlag,
    Subject,
)
from attrition.sinks.rows import (
    CHUNK_EVENTS,
    DELTA_COLUMNS,
    DELTA_TABLE,
    LOSS_EVENT_COLUMNS,
    LOSS_EVENT_TABLE,
    column_values,
    loss_event_from_row,
)


def _loss(category: Category, quality: list[QualityFlag]) -> LossEvent:
    return LossEvent(
        event_id=f"e-{category.value}",
        source_id="doc",
        source_kind=DocumentKind.report,
        claimant=Claimant.ua_general_staff,
        subject=Subject.russia,
        category=category,
        label=category.value,
        as_of=date(2024, 5, 1),
        total=100,
        delta=3,
        measure=Measure.casualties if category is Category.personnel else None,
        span=TextSpan(start=0, end=5, text="x ‒ 1"),
        quality=quality,
    )


def _delta(flags: list[DeltaFlag]) -> DeltaEvent:
    return DeltaEvent(
        delta_id=f"d-{len(flags)}",
        claimant=Claimant.ua_general_staff,
        subject=Subject.russia,
        category=Category.tanks,
        source_kind=DocumentKind.report,
        as_of=date(2024, 5, 2),
        total=103,
        previous_as_of=date(2024, 5, 1),
        previous_total=100,
        change=3,
        days=1,
        flags=flags,
        source_id="doc",
        event_id="e",
    )


def test_enums_are_plain_text_and_lists_json_text() -> None:
    events = [
        _loss(Category.personnel, []),
        _loss(Category.tanks, [QualityFlag.unknown_label, QualityFlag.delta_without_total]),
    ]
    columns = dict(zip(LOSS_EVENT_COLUMNS, column_values(LOSS_EVENT_TABLE, events), strict=True))
    for name in ("source_kind", "claimant", "subject", "category", "qualifier", "measure"):
        for value, event in zip(columns[name], events, strict=True):
            member = getattr(event, name)
            assert value == (None if member is None else member.value)
            assert value is None or type(value) is str  # the text itself, not the member
    assert columns["measure"] == ["casualties", None]
    assert columns["quality"] == ["[]", '["unknown_label","delta_without_total"]']
    for position, event in enumerate(events):
        row = {name: values[position] for name, values in columns.items()}
        assert loss_event_from_row(row) == event

    deltas = [_delta([]), _delta([DeltaFlag.gap, DeltaFlag.correction])]
    columns = dict(zip(DELTA_COLUMNS, column_values(DELTA_TABLE, deltas), strict=True))
    assert columns["flags"] == [orjson.dumps(d.flags).decode() for d in deltas]
    assert columns["flags"][0] == "[]"
    assert all(type(v) is str for v in columns["category"] + columns["source_kind"])


def test_a_batch_read_in_chunks_gives_each_column_in_the_batch_order() -> None:
    categories = list(Category)
    events = [
        _loss(categories[n % len(categories)], [QualityFlag.unknown_label] * (n % 2))
        for n in range(2 * CHUNK_EVENTS + 7)
    ]
    events = [e.model_copy(update={"event_id": f"e{n}", "total": n}) for n, e in enumerate(events)]
    whole = [column(events) for column in LOSS_EVENT_TABLE.values()]
    assert column_values(LOSS_EVENT_TABLE, events) == whole
    assert whole[LOSS_EVENT_COLUMNS.index("total")] == list(range(len(events)))
