"""How loss events and deltas are framed on their topics: a batch of one partition's events per
message.

A Kafka message costs a Faust stage hundreds of microseconds, whatever it holds; an event costs
the pure core a few. So the loss-events and deltas topics carry, per message, the events a stage
produced at once whose totals keys (`claimant/subject/category`) fall in one partition, in
order. The message key is the first event's totals key: Kafka's default partitioner puts the
message in that key's partition, which is every one of its events' partition. A report's
fifteen figures make one message per partition (four by default) instead of fifteen; a backfill
or a replay puts up to `Settings.wire_batch_max_events` in one, and every stage downstream pays
the message's cost once for all of them. A message of one key's events is the special case
(`attrition backfill` sends those). Per-key order is the messages' order, then the list's;
readers take each event's key from the event, not from the message."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TypeVar

import orjson
from pydantic import BaseModel, Field

from attrition.contracts.events import DeltaEvent, LossEvent, _Event


class LossEventBatch(_Event):
    """One message on the loss-events topic: loss events of one partition, the message keyed by
    the first event's totals key."""

    events: list[LossEvent] = Field(
        min_length=1,
        description=(
            "In the order they were produced. The first event's totals key is the message key; "
            "every event's totals key falls in the message's partition (Kafka's default "
            "partitioner)."
        ),
    )


class DeltaBatch(_Event):
    """One message on the deltas topic: deltas of one partition, the message keyed by the first
    delta's totals key."""

    events: list[DeltaEvent] = Field(
        min_length=1,
        description=(
            "In the order the totals stage emitted them. The first delta's totals key is the "
            "message key; every delta's totals key falls in the message's partition (Kafka's "
            "default partitioner)."
        ),
    )


E = TypeVar("E", bound=BaseModel)
T = TypeVar("T")
H = TypeVar("H", bound=Hashable)


def group_by_key(events: Iterable[T], key_of: Callable[[T], H]) -> dict[H, list[T]]:
    """Events by key, each key's list in arrival order (dicts keep the keys' first-seen order)."""
    grouped: dict[H, list[T]] = {}
    for event in events:
        grouped.setdefault(key_of(event), []).append(event)
    return grouped


def chunks(events: list[T], max_events: int) -> Iterator[list[T]]:
    for start in range(0, len(events), max_events):
        yield events[start : start + max_events]


#: Most bytes in one message's value: well under Kafka's default 1 MB request and message
#: limits, whatever the events hold (a loss event's span can carry a 20,000-character line).
MAX_BATCH_BYTES = 512 * 1024


def payloads(
    events: list[T],
    encode: Callable[[list[T]], bytes],
    max_events: int,
    max_bytes: int = MAX_BATCH_BYTES,
) -> Iterator[bytes]:
    """Encoded batches of `events`, in order: at most `max_events` each, and halved until each
    fits `max_bytes` (one encoding in the usual case; a single event is never split)."""
    for _, payload in framed(events, encode, max_events, max_bytes):
        yield payload


def framed(
    events: list[T],
    encode: Callable[[list[T]], bytes],
    max_events: int,
    max_bytes: int = MAX_BATCH_BYTES,
) -> Iterator[tuple[list[T], bytes]]:
    """`payloads`, each with the events it holds."""
    for part in chunks(events, max_events):
        yield from _fitting(part, encode, max_bytes)


def _fitting(
    part: list[T], encode: Callable[[list[T]], bytes], max_bytes: int
) -> Iterator[tuple[list[T], bytes]]:
    payload = encode(part)
    if len(payload) <= max_bytes or len(part) == 1:
        yield part, payload
        return
    middle = len(part) // 2
    yield from _fitting(part[:middle], encode, max_bytes)
    yield from _fitting(part[middle:], encode, max_bytes)


def _fields_of(value: object) -> dict[str, object]:
    if isinstance(value, BaseModel):
        return value.__dict__
    raise TypeError(f"{type(value).__name__} is not part of a loss event or delta")


def _encode_events(events: list[LossEvent] | list[DeltaEvent]) -> bytes:
    # orjson over the events' own field values: the same bytes as pydantic's serializer for
    # these two models (their fields are str, int, float, bool, date, str enums, lists of
    # them, and the TextSpan model; tests/unit/contracts/test_batches.py compares them on
    # every kind of event), at a sixth of the cost (0.7 against 4.4 us a loss event).
    return orjson.dumps({"events": [event.__dict__ for event in events]}, default=_fields_of)


def encode_loss_batch(events: list[LossEvent]) -> bytes:
    """The JSON of a LossEventBatch of already valid events."""
    return _encode_events(events)


def encode_delta_batch(events: list[DeltaEvent]) -> bytes:
    """The JSON of a DeltaBatch of already valid deltas."""
    return _encode_events(events)


def decode_loss_batch(payload: bytes) -> list[LossEvent]:
    return LossEventBatch.model_validate_json(payload).events


def decode_delta_batch(payload: bytes) -> list[DeltaEvent]:
    return DeltaBatch.model_validate_json(payload).events


def decode_single(model: type[E]) -> Callable[[bytes], list[E]]:
    """The decoder of a topic that carries one event per message (alerts, dead letters), in
    the shape of the batch decoders: readers of several topics then treat them alike."""

    def decode(payload: bytes) -> list[E]:
        return [model.model_validate_json(payload)]

    return decode
