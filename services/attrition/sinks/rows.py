"""Events as table rows: the column order of each table and the values that go in them.

Enums become their text values and lists JSON text, so both engines store (and give back)
exactly the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from operator import attrgetter
from typing import Any, TypeVar

import orjson

from attrition.contracts.events import DeltaEvent, LossEvent

Row = tuple[Any, ...]
#: How one column's values are read from a batch of events, in the batch's order.
Column = Callable[[Sequence[Any]], list[Any]]


def _attr(path: str) -> Column:
    get = attrgetter(path)
    return lambda items: list(map(get, items))


def _enum_or_none(path: str) -> Column:
    # The vocabulary's enums are StrEnums: `_value_` is the text itself, and what `.value`
    # returns without the descriptor (read for every value).
    get = attrgetter(path)
    return lambda items: [None if v is None else v._value_ for v in map(get, items)]


def _enum(path: str) -> Column:
    # A StrEnum's str() is str.__str__, in C: the member's text as a plain str.
    get = attrgetter(path)
    return lambda items: list(map(str, map(get, items)))


def _json_list(path: str) -> Column:
    get = attrgetter(path)  # orjson writes an enum as its value
    # Most events carry no flags: the empty list's text needs no encoder.
    return lambda items: [orjson.dumps(v).decode() if v else "[]" for v in map(get, items)]


def _float(path: str) -> Column:
    get = attrgetter(path)
    return lambda items: [None if v is None else float(v) for v in map(get, items)]


def _utc(path: str) -> Column:
    # A naive timestamp is taken as UTC, not as the server's local time.
    get = attrgetter(path)
    return lambda items: [m if m.tzinfo else m.replace(tzinfo=UTC) for m in map(get, items)]


# Each table's columns in order, and how each is read from its events. A batch is read a column
# at a time: one attribute getter mapped over the events, instead of a tuple built per event and
# transposed for the Arrow table DuckDB reads (about a fifth less of the sink's time in the
# event loop: docs/performance.md).
LOSS_EVENT_TABLE: dict[str, Column] = {
    "event_id": _attr("event_id"), "source_id": _attr("source_id"),
    "source_kind": _enum("source_kind"), "claimant": _enum("claimant"),
    "subject": _enum("subject"), "category": _enum("category"), "label": _attr("label"),
    "as_of": _attr("as_of"), "total": _attr("total"), "delta": _attr("delta"),
    "period_days": _attr("period_days"), "qualifier": _enum("qualifier"), "low": _attr("low"),
    "high": _attr("high"), "measure": _enum_or_none("measure"),
    "span_start": _attr("span.start"), "span_end": _attr("span.end"),
    "span_text": _attr("span.text"), "official": _attr("official"),
    "confidence": _float("confidence"), "quality": _json_list("quality"),
}  # fmt: skip
DELTA_TABLE: dict[str, Column] = {
    "delta_id": _attr("delta_id"), "claimant": _enum("claimant"), "subject": _enum("subject"),
    "category": _enum("category"), "source_kind": _enum("source_kind"),
    "as_of": _attr("as_of"), "total": _attr("total"), "previous_as_of": _attr("previous_as_of"),
    "previous_total": _attr("previous_total"), "change": _attr("change"),
    "reported_delta": _attr("reported_delta"), "days": _attr("days"),
    "flags": _json_list("flags"), "replaces": _attr("replaces"),
    "source_id": _attr("source_id"), "event_id": _attr("event_id"),
}  # fmt: skip
ALERT_TABLE: dict[str, Column] = {
    "alert_id": _attr("alert_id"), "kind": _enum("kind"), "claimant": _enum("claimant"),
    "subject": _enum("subject"), "category": _enum("category"), "as_of": _attr("as_of"),
    "value": _float("value"), "baseline": _float("baseline"), "score": _float("score"),
    "threshold": _float("threshold"), "severity": _enum("severity"),
    "explanation": _attr("explanation"), "delta_id": _attr("delta_id"),
}  # fmt: skip
DEAD_LETTER_TABLE: dict[str, Column] = {
    "dead_letter_id": _attr("dead_letter_id"), "reason": _enum("reason"),
    "detail": _attr("detail"), "source_topic": _attr("source_topic"),
    "source_key": _attr("source_key"), "source_id": _attr("source_id"),
    "payload_excerpt": _attr("payload_excerpt"), "payload_size": _attr("payload_size"),
    "failed_at": _utc("failed_at"),
}  # fmt: skip
LOSS_EVENT_COLUMNS = tuple(LOSS_EVENT_TABLE)
DELTA_COLUMNS = tuple(DELTA_TABLE)
ALERT_COLUMNS = tuple(ALERT_TABLE)
DEAD_LETTER_COLUMNS = tuple(DEAD_LETTER_TABLE)


#: Events read per round of column passes: a round's events stay in the core's cache from the
#: first column to the last (128 loss events are about 150 KB with their spans and strings).
CHUNK_EVENTS = 128


def column_values(table: Mapping[str, Column], items: Sequence[Any]) -> list[list[Any]]:
    """Each column's values for `items`, in the table's column order.

    Read a chunk at a time: events reach the sinks long after they were built, scattered over
    the heap, and a pass over a whole batch per column paid a cache miss per event for each of
    twenty columns (see docs/performance.md)."""
    columns = list(table.values())
    if len(items) <= CHUNK_EVENTS:
        return [column(items) for column in columns]
    values: list[list[Any]] = [[] for _ in columns]
    for start in range(0, len(items), CHUNK_EVENTS):
        chunk = items[start : start + CHUNK_EVENTS]
        for column, read in zip(values, columns, strict=True):
            column.extend(read(chunk))
    return values


def loss_event_from_row(row: Mapping[str, Any]) -> LossEvent:
    """The LossEvent a `loss_events` row holds (the inverse of LOSS_EVENT_TABLE), validated."""
    values = {c: row[c] for c in LOSS_EVENT_COLUMNS if not c.startswith("span_")}
    values["span"] = {"start": row["span_start"], "end": row["span_end"], "text": row["span_text"]}
    values["quality"] = orjson.loads(row["quality"])
    return LossEvent.model_validate(values)


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
