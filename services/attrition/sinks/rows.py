"""Events as table rows: the column order of each table and the values that go in them.

Enums become their text values and lists JSON text, so both engines store (and give back)
exactly the same values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

import orjson

from attrition.contracts.events import AlertEvent, DeadLetter, DeltaEvent, LossEvent

Row = tuple[Any, ...]

LOSS_EVENT_COLUMNS = (
    "event_id", "source_id", "source_kind", "claimant", "subject", "category", "label",
    "as_of", "total", "delta", "period_days", "qualifier", "low", "high", "measure",
    "span_start", "span_end", "span_text", "official", "confidence", "quality",
)  # fmt: skip
DELTA_COLUMNS = (
    "delta_id", "claimant", "subject", "category", "source_kind", "as_of", "total",
    "previous_as_of", "previous_total", "change", "reported_delta", "days", "flags",
    "replaces", "source_id", "event_id",
)  # fmt: skip
ALERT_COLUMNS = (
    "alert_id", "kind", "claimant", "subject", "category", "as_of", "value", "baseline",
    "score", "threshold", "severity", "explanation", "delta_id",
)  # fmt: skip
DEAD_LETTER_COLUMNS = (
    "dead_letter_id", "reason", "detail", "source_topic", "source_key", "source_id",
    "payload_excerpt", "payload_size", "failed_at",
)  # fmt: skip


def _text(value: Enum | None) -> str | None:
    # `_value_` is what `.value` returns, without the descriptor (called per column per row).
    return None if value is None else str(value._value_)


def _json_list(values: Iterable[Enum]) -> str:
    return orjson.dumps([v._value_ for v in values]).decode()


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _utc(moment: datetime) -> datetime:
    # A naive timestamp is taken as UTC, not as the server's local time.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def loss_event_row(e: LossEvent) -> Row:
    return (
        e.event_id, e.source_id, _text(e.source_kind), _text(e.claimant), _text(e.subject),
        _text(e.category), e.label, e.as_of, e.total, e.delta, e.period_days,
        _text(e.qualifier), e.low, e.high, _text(e.measure), e.span.start, e.span.end,
        e.span.text, e.official, float(e.confidence), _json_list(e.quality),
    )  # fmt: skip


def loss_event_from_row(row: Mapping[str, Any]) -> LossEvent:
    """The LossEvent a `loss_events` row holds (the inverse of `loss_event_row`), validated."""
    values = {c: row[c] for c in LOSS_EVENT_COLUMNS if not c.startswith("span_")}
    values["span"] = {"start": row["span_start"], "end": row["span_end"], "text": row["span_text"]}
    values["quality"] = orjson.loads(row["quality"])
    return LossEvent.model_validate(values)


def delta_row(d: DeltaEvent) -> Row:
    return (
        d.delta_id, _text(d.claimant), _text(d.subject), _text(d.category),
        _text(d.source_kind), d.as_of, d.total, d.previous_as_of, d.previous_total, d.change,
        d.reported_delta, d.days, _json_list(d.flags), d.replaces, d.source_id, d.event_id,
    )  # fmt: skip


def alert_row(a: AlertEvent) -> Row:
    return (
        a.alert_id, _text(a.kind), _text(a.claimant), _text(a.subject), _text(a.category),
        a.as_of, float(a.value), _float(a.baseline), _float(a.score), _float(a.threshold),
        _text(a.severity), a.explanation, a.delta_id,
    )  # fmt: skip


def dead_letter_row(d: DeadLetter) -> Row:
    return (
        d.dead_letter_id, _text(d.reason), d.detail, d.source_topic, d.source_key,
        d.source_id, d.payload_excerpt, d.payload_size, _utc(d.failed_at),
    )  # fmt: skip


T = TypeVar("T")


def unique_by_id(items: Sequence[T], key: str) -> list[T]:
    """The last of each id: a repeated id inside one INSERT would make the upsert fail."""
    by_id: dict[str, T] = {}
    for item in items:
        by_id[getattr(item, key)] = item
    return list(by_id.values())


def unique_deltas(deltas: Sequence[DeltaEvent]) -> list[DeltaEvent]:
    """The last version of each delta id, keeping the `replaces` link an earlier one carried.

    The totals stage re-sends a delta id whose content is unchanged when only its source or
    flags moved, without `replaces`; the link it was first sent with is still a fact about it,
    and losing it would leave the delta it replaced looking current."""
    by_id: dict[str, DeltaEvent] = {}
    for delta in deltas:
        earlier = by_id.get(delta.delta_id)
        if earlier is not None and delta.replaces is None and earlier.replaces is not None:
            delta = delta.model_copy(update={"replaces": earlier.replaces})
        by_id[delta.delta_id] = delta
    return list(by_id.values())
