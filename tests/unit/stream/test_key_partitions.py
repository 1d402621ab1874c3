"""Where a totals key's events go: Kafka's default partitioner, so messages of several keys land
where each key's state lives."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner

from attrition.stream.key_partitions import by_partition, key_partition, partition_counts

# murmur2 of these bytes in Apache Kafka's own tests (UtilsTest.testMurmur2), as Java ints.
JAVA_CLIENT = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


@pytest.mark.parametrize("key", list(JAVA_CLIENT))
def test_a_key_goes_where_the_java_client_puts_it(key: bytes) -> None:
    for partitions in (1, 4, 12, 50):
        expected = (JAVA_CLIENT[key] & 0x7FFFFFFF) % partitions
        assert key_partition(key, partitions) == expected


def test_a_key_goes_where_the_producer_puts_it() -> None:
    keys = [f"ua_general_staff/russia/{c}".encode() for c in ("tanks", "aircraft", "ships")]
    keys += [f"key-{n}".encode() for n in range(200)]
    for partitions in (3, 4, 16):
        everything = list(range(partitions))
        for key in keys:
            assert key_partition(key, partitions) == DefaultPartitioner()(
                key, everything, everything
            )


def _event(key: str, n: int) -> SimpleNamespace:
    return SimpleNamespace(totals_key=key, n=n)


def _partition_of(group: list[SimpleNamespace]) -> int:
    return key_partition(group[0].totals_key.encode(), 4)


def test_events_are_grouped_by_partition_in_arrival_order() -> None:
    keys = [f"k{n}" for n in range(12)]
    events = [_event(keys[n % 12], n) for n in range(60)]
    groups = by_partition(events, 4)
    assert sorted(_partition_of(g) for g in groups) == sorted(
        {key_partition(k.encode(), 4) for k in keys}
    )
    assert len({_partition_of(g) for g in groups}) == len(groups)  # one group per partition
    for group in groups:
        partition = _partition_of(group)
        assert all(key_partition(e.totals_key.encode(), 4) == partition for e in group)
        assert [e.n for e in group] == sorted(e.n for e in group)
    assert sorted(e.n for group in groups for e in group) == list(range(60))


def test_without_a_partition_count_each_key_is_its_own_group() -> None:
    events = [_event(k, n) for n, k in enumerate("abacba")]
    groups = by_partition(events, None)
    assert [[e.n for e in g] for g in groups] == [
        [0, 2, 5],
        [1, 4],
        [3],
    ]


class _Consumer:
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def topic_partitions(self, topic: str) -> int | None:
        return self.counts.get(topic)


class _Metadata:
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        n = self.counts.get(topic)
        return None if n is None else set(range(n))


def _app(consumer: dict[str, int] | None, producer: dict[str, int] | None) -> Any:
    return SimpleNamespace(
        _consumer=None if consumer is None else _Consumer(consumer),
        producer=SimpleNamespace(
            _producer=None if producer is None else SimpleNamespace(_metadata=_Metadata(producer))
        ),
    )


def test_the_count_comes_from_the_consumer_then_the_producer_and_is_kept() -> None:
    consumer = {"read": 4}
    producer = {"read": 9, "sent": 6}
    count = partition_counts(_app(consumer, producer))
    assert count("read") == 4  # the consumer's, for a topic this worker reads
    assert count("sent") == 6  # the producer's, for a topic it only sends to
    assert count("neither") is None  # no metadata yet: asked again next time
    consumer["neither"] = 3
    assert count("neither") == 3
    consumer["read"] = 8
    assert count("read") == 4  # once known, kept: the tables are partitioned by it


def test_no_consumer_or_producer_yet_means_no_count() -> None:
    assert partition_counts(_app(None, None))("anything") is None
