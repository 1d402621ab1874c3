"""Agents that take their events in batches (`stream.take_events`) and stay at-least-once.

Faust commits an offset only once every stream reading the message has acked it, and flushes
the producer before it commits; these helpers make sure that an ack comes only after the
batch's effects have been handed to the producer, even when the agent fails mid-batch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from attrition.contracts.batches import group_by_key
from attrition.parse.document_parser import validation_summary
from attrition.stream.key_partitions import K, PartitionCount, key_partition, totals_key_of

log = logging.getLogger(__name__)


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
    batch: Sequence[Any],
    decode: Callable[[Any], list[K]],
    what: str,
    partitions: PartitionCount | None,
) -> tuple[dict[bytes, tuple[list[K], Any]], int, list[tuple[Any, str]]]:
    """The events of a batch of framed messages (contracts/batches.py), by totals key in
    arrival order, each with the key's last message (the one a table write takes its
    partition from); how many events there were; and the messages refused, each with why.
    `decode` takes a Faust message; the lists it returns may be shared with other stages
    (stream/shared_decode.py) and are never changed here. `partitions` gives a topic's
    partition count (stream/key_partitions.py).

    A message is refused when it does not decode or `refusal` gives why: fed to a key's state
    it would corrupt the state from then on, or be written by a worker that does not own the
    key. The stage that reads the topic first turns it into a dead letter
    (stream/dead_letters.py)."""
    by_key: dict[bytes, tuple[list[K], Any]] = {}
    refused: list[tuple[Any, str]] = []
    count = 0
    for event in batch:
        message = event.message
        key = message.key
        try:
            events = decode(message)
        except ValidationError as exc:
            log.error("undecodable %s on key %r refused: %s", what, key, exc)
            refused.append((event, f"not a {what}: {validation_summary(exc)}"))
            continue
        grouped = group_by_key(events, totals_key_of)
        count_of = partitions(message.topic) if partitions is not None else None
        why = refusal(key, list(grouped), message.partition, count_of)
        if why is not None:
            log.error("%s on key %r refused: %s", what, key, why)
            refused.append((event, f"{what} {why}"))
            continue
        # The grouped lists are this call's own: merged into in place, never the decoder's.
        for named, its_events in grouped.items():
            name = named.encode()
            kept = by_key.get(name)
            if kept is None:
                by_key[name] = (its_events, event)
            else:
                kept[0].extend(its_events)
                by_key[name] = (kept[0], event)
        count += len(events)
    return by_key, count, refused


def refusal(
    key: bytes | None, keys: Sequence[str], partition: int, partitions: int | None
) -> str | None:
    """Why no stage may read a message with this key, on this partition of a topic of
    `partitions` partitions, whose events have these totals keys (first-seen order); None
    when it may. The one rule of the stages (`unpack_by_key`) and of `attrition state
    rebuild`'s check of what they committed: the message is keyed by its first event, and
    every key is in the message's partition. Where the partition count is not known (no
    metadata yet), a message of one key's events is read, as where its producer put it."""
    named = key.decode(errors="replace") if key else None
    if named is None or not keys or keys[0] != named:
        return f"on key {named!r} holds events of {', '.join(sorted(keys))}"
    if not partitions:
        if len(keys) == 1:
            return None
        return (
            f"on key {named!r} holds events of several keys ({', '.join(sorted(keys))}) and "
            "the topic's partition count is unknown"
        )
    stray = sorted(k for k in keys if key_partition(k.encode(), partitions) != partition)
    if not stray:
        return None
    return (
        f"on key {named!r} in partition {partition} holds events of {', '.join(stray)}, "
        "of other partitions"
    )
