"""stream/seek_before_fetch.py: Faust's recovery keeps the fetch flow stopped until the stream
partitions are sought, and a partition with no committed offset is sought to its start."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.consumer.subscription_state import SubscriptionState
from faust.types import TP

from attrition.stream.seek_before_fetch import _positioned_only, _seeking_first

READ, WRITTEN, FRESH, CHANGELOG = TP("raw", 0), TP("raw", 1), TP("loss", 0), TP("ledger", 0)


class Thread:
    def __init__(self, calls: list[Any]) -> None:
        self.calls = calls

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        self.calls.append(("seek_to_beginning", sorted(partitions)))


class Consumer:
    """What the patch touches of Faust's consumer: the flow, the seek, the committed offsets
    Faust's seek leaves behind, the assignment and the driver thread."""

    fail_seek = False

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self._committed_offset: defaultdict[TP, int | None] = defaultdict(lambda: None)
        self._thread = Thread(self.calls)

    def assignment(self) -> set[TP]:
        return {READ, WRITTEN, FRESH, CHANGELOG}

    def stop_flow(self) -> None:
        self.calls.append(("stop_flow",))

    def resume_flow(self) -> None:
        self.calls.append(("resume_flow",))

    def resume_partitions(self, partitions: Any) -> None:
        self.calls.append(("resume", sorted(partitions)))

    async def perform_seek(self) -> None:
        if self.fail_seek:
            raise ConnectionError("broker gone")
        self.calls.append(("seek",))
        self._committed_offset.update({READ: 120, WRITTEN: 0})


class Recovery:
    def __init__(self, consumer: Consumer) -> None:
        self.app = type("App", (), {"consumer": consumer})()

    def _is_changelog_tp(self, tp: TP) -> bool:
        return tp is CHANGELOG

    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        # Faust's order: resume the stream partitions, seek them, resume the flow.
        consumer = self.app.consumer
        consumer.resume_partitions({READ, WRITTEN, FRESH})
        await consumer.perform_seek()
        consumer.resume_flow()


async def test_the_flow_stays_stopped_until_the_seek_and_uncommitted_partitions_rewind() -> None:
    consumer = Consumer()
    await _seeking_first(Recovery.on_recovery_completed)(Recovery(consumer))
    assert consumer.calls == [
        ("stop_flow",),
        ("resume", sorted([READ, WRITTEN, FRESH])),
        ("seek",),
        # No committed offset (None) or offset 0: read from the first message; never a
        # changelog partition, which Faust's recovery positions itself.
        ("seek_to_beginning", [TopicPartition("loss", 0), TopicPartition("raw", 1)]),
        ("resume_flow",),
    ]
    # The consumer's own seek is back for every later caller.
    assert "perform_seek" not in vars(consumer)


async def test_a_failed_seek_leaves_the_consumer_as_it_was() -> None:
    consumer = Consumer()
    consumer.fail_seek = True
    with pytest.raises(ConnectionError):
        await _seeking_first(Recovery.on_recovery_completed)(Recovery(consumer))
    assert "perform_seek" not in vars(consumer)


async def test_the_stream_moving_check_waits_for_a_partition_to_have_a_position() -> None:
    """Faust's livelock check read aiokafka's `position` of a partition our seek to the start
    had left awaiting its reset, and aiokafka's assertion crashed the consumer."""
    subscriptions = SubscriptionState()
    subscriptions.assign_from_user({TopicPartition("raw", 0)})
    checked: list[TP] = []

    def verify(thread: Any, now: float, tp: TP) -> None:
        checked.append(tp)
        state = subscriptions.subscription.assignment.state_value(
            TopicPartition(tp.topic, tp.partition)
        )
        state.position  # noqa: B018 - asserts there is one, as Faust's check reads it

    thread = SimpleNamespace(
        _consumer=SimpleNamespace(_fetcher=SimpleNamespace(_subscriptions=subscriptions))
    )
    guarded = _positioned_only(verify)
    with pytest.raises(AssertionError):
        verify(thread, 0.0, TP("raw", 0))  # unguarded: aiokafka's assertion
    checked.clear()
    assert guarded(thread, 0.0, TP("raw", 0)) is None
    assert checked == []  # awaiting its reset: not checked
    subscriptions.seek(TopicPartition("raw", 0), 5)
    guarded(thread, 0.0, TP("raw", 0))
    assert checked == [TP("raw", 0)]  # positioned: Faust's check runs
