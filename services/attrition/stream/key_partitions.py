"""Which partition a totals key belongs to, so that one message can carry several keys' events.

A message on the loss-events or deltas topic holds events of one partition (contracts/
batches.py): the stages send each batch's events as one message per partition rather than one
per key. At 100 documents/s that is 4 messages every 20 ms instead of 15, and a Faust stage
pays hundreds of microseconds for a message whatever it holds.

A key's partition is the one Kafka's default partitioner gives it (murmur2 of the key, as the
Java client, aiokafka and Faust compute it) over the topic's partition count; the tables are
partitioned the same way, so a key's state lives where its events arrive. When the count is not
known yet (no metadata for the topic), the events go one message per key, as before: each such
message is on its key's partition by construction."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from aiokafka.partitioner import murmur2

from attrition.contracts.batches import group_by_key


class Keyed(Protocol):
    """An event of the loss-events or deltas topics: it names its own totals key."""

    @property
    def totals_key(self) -> str: ...


K = TypeVar("K", bound=Keyed)

#: The totals key an event names: what the stages group a message's events by.
totals_key_of: Callable[[Keyed], str] = attrgetter("totals_key")

#: A topic's partition count as this worker knows it, or None while it has no metadata.
PartitionCount = Callable[[str], "int | None"]


@functools.lru_cache(maxsize=4096)
def key_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner puts `key` in, of `partitions`.

    Remembered: aiokafka's murmur2 is pure Python (about 4 % of the worker's main thread at
    100 documents/s, asked for each key of each message by every stage reading it), and the
    totals keys are a few hundred at most."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


def by_partition(events: Iterable[K], partitions: int | None) -> list[list[K]]:
    """Events grouped by their totals key's partition, each group in arrival order; by key
    when `partitions` is not known (each key's events are then on its own partition anyway)."""
    if not partitions:
        return list(group_by_key(events, totals_key_of).values())
    return list(
        group_by_key(events, lambda e: key_partition(e.totals_key.encode(), partitions)).values()
    )


def partition_counts(app: Any) -> PartitionCount:
    """A topic's partition count from this worker's consumer (the topics it reads) or its
    producer (the topics it has sent to), remembered once known: a running worker's tables
    are partitioned by that count and cannot outlive a change of it anyway."""
    known: dict[str, int] = {}

    def count(topic: str) -> int | None:
        found = known.get(topic)
        if found is None:
            found = _from_consumer(app, topic) or _from_producer(app, topic)
            if found:
                known[topic] = found
        return found

    return count


def _from_consumer(app: Any, topic: str) -> int | None:
    consumer = getattr(app, "_consumer", None)  # not `app.consumer`, which would make one
    if consumer is None:
        return None
    try:
        found = consumer.topic_partitions(topic)
    except Exception:  # its thread has no aiokafka consumer yet
        return None
    return int(found) if found else None


def _from_producer(app: Any, topic: str) -> int | None:
    producer = getattr(app.producer, "_producer", None)
    metadata = getattr(producer, "_metadata", None)
    if metadata is None:
        return None
    partitions = metadata.partitions_for_topic(topic)
    return len(partitions) if partitions else None
