"""stream/seek_before_fetch.py: Faust's recovery resumes the stream partitions only once they
have been sought, and a partition with no committed offset is sought to its start."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from aiokafka import TopicPartition
from faust.types import TP

from attrition.stream.seek_before_fetch import _seeking_first

READ, WRITTEN, FRESH = TP("raw", 0), TP("raw", 1), TP("loss", 0)


class Thread:
    def __init__(self, calls: list[Any]) -> None:
        self.calls = calls

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        self.calls.append(("seek_to_beginning", sorted(partitions)))


class Consumer:
    """What the patch touches of Faust's consumer: the two methods it reorders, the committed
    offsets Faust's seek leaves behind, and the driver thread."""

    fail_seek = False

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self._committed_offset: defaultdict[TP, int | None] = defaultdict(lambda: None)
        self._thread = Thread(self.calls)

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

    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        # Faust's order: resume the stream partitions, then seek them.
        self.app.consumer.resume_partitions({READ, WRITTEN, FRESH})
        await self.app.consumer.perform_seek()


async def test_partitions_are_resumed_only_after_the_seek_and_uncommitted_ones_rewound() -> None:
    consumer = Consumer()
    await _seeking_first(Recovery.on_recovery_completed)(Recovery(consumer))
    assert consumer.calls == [
        ("seek",),
        # No committed offset (None) or offset 0: read from the first message.
        ("seek_to_beginning", [TopicPartition("loss", 0), TopicPartition("raw", 1)]),
        ("resume", sorted([READ, WRITTEN, FRESH])),
    ]
    # The consumer's own methods are back for every later caller.
    assert "resume_partitions" not in vars(consumer) and "perform_seek" not in vars(consumer)


async def test_a_failed_seek_still_resumes_the_partitions_as_faust_would() -> None:
    consumer = Consumer()
    consumer.fail_seek = True
    with pytest.raises(ConnectionError):
        await _seeking_first(Recovery.on_recovery_completed)(Recovery(consumer))
    assert consumer.calls == [("resume", sorted([READ, WRITTEN, FRESH]))]
    assert "perform_seek" not in vars(consumer)
