"""Agents that take their events in batches (`stream.take_events`) and stay at-least-once.

Faust commits an offset only once every stream reading the message has acked it, and flushes
the producer before it commits; these helpers make sure that an ack comes only after the
batch's effects have been handed to the producer, even when the agent fails mid-batch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from attrition.parse.document_parser import validation_summary

log = logging.getLogger(__name__)


class _Keyed(Protocol):
    @property
    def totals_key(self) -> str: ...


K = TypeVar("K", bound=_Keyed)


def hold(events: Sequence[Any]) -> None:
    """Take a reference on each message so that the batch iterator's ack cannot commit it.

    `take_events` acks a batch in a `finally`, which also runs when the agent fails mid-batch;
    the reference makes that ack a non-final one, so a failed batch is redelivered after a
    restart instead of committed with its effects unsent."""
    for event in events:
        event.message.incref()


def release(events: Sequence[Any]) -> None:
    """Drop the references `hold` took, once every effect of the batch has been handed to the
    producer (Faust flushes the producer before it commits offsets).

    An ack, not a bare decref: whichever comes last, this or the batch iterator's own ack,
    must be the final ack that marks the offset safe to commit (the totals stage releases
    after the iterator has acked, once its ledgers are flushed)."""
    for event in events:
        event.ack()


def abandon(events: Sequence[Any], consumer: Any) -> None:
    """Give up a held batch whose effects could not be made, for good: its messages are never
    acked, so their offsets are never committed and the next worker gets them again, and the
    consumer stops counting them as in flight. Faust's graceful stop waits until every message
    in flight is acked (`Consumer.wait_empty`), so without this a worker stopped while a batch
    it could not write was held would wait for ever."""
    for event in events:
        consumer._unacked_messages.discard(event.message)


def abandon_in_flight(consumer: Any) -> int:
    """`abandon` for every message the consumer still counts as in flight, whoever holds it;
    how many there were."""
    left = consumer._unacked_messages
    count = len(left)
    left.clear()
    return count


def unpack_by_key(
    batch: Sequence[Any], decode: Callable[[Any], list[K]], what: str
) -> tuple[dict[bytes, tuple[list[K], Any]], int, list[tuple[Any, str]]]:
    """The events of a batch of framed messages (contracts/batches.py), by message key in
    arrival order, each with the key's last message (the one a table write takes its
    partition from); how many events there were; and the messages refused, each with why.
    `decode` takes a Faust message; the lists it returns may be shared with other stages
    (stream/shared_decode.py) and are never changed here.

    A message that does not decode, has no key, or holds another key's events is refused:
    fed to a key's state it would corrupt that state from then on. The stage that reads the
    topic first turns it into a dead letter (stream/dead_letters.py)."""
    by_key: dict[bytes, tuple[list[K], Any]] = {}
    refused: list[tuple[Any, str]] = []
    count = 0
    for event in batch:
        key = event.message.key
        try:
            events = decode(event.message)
        except ValidationError as exc:
            log.error("undecodable %s on key %r refused: %s", what, key, exc)
            refused.append((event, f"not a {what}: {validation_summary(exc)}"))
            continue
        named = key.decode(errors="replace") if key else None
        if named is None or any(e.totals_key != named for e in events):
            log.error("%s on key %r holds events of other keys: refused", what, key)
            keys = sorted({e.totals_key for e in events})
            refused.append((event, f"{what} on key {named!r} holds events of {', '.join(keys)}"))
            continue
        count += len(events)
        kept = by_key.get(key)
        merged = list(events) if kept is None else kept[0]
        if kept is not None:
            merged.extend(events)
        by_key[key] = (merged, event)
    return by_key, count, refused
