"""stream/broker_watch.py: which partitions' logs went back."""

from __future__ import annotations

from aiokafka import TopicPartition
from faust.types import TP

from attrition.stream.broker_watch import PartitionsRead, partitions_gone_back

RAW0, RAW1 = TopicPartition("raw.reports", 0), TopicPartition("raw.reports", 1)


def test_an_end_offset_below_one_seen_before_went_back() -> None:
    gone = partitions_gone_back({RAW0: 3, RAW1: 40}, {RAW0: 57, RAW1: 40}, set())
    assert gone == [(RAW0, 57, 3)]


def test_a_partition_read_from_and_now_empty_went_back_though_no_end_was_seen() -> None:
    """The broker restarted empty before the watch first ran: only the reads tell."""
    read = PartitionsRead()
    read.on_message_in(TP("raw.reports", 1), 11, None)  # Faust's TP, as its consumer passes it
    assert partitions_gone_back({RAW0: 0, RAW1: 0}, {}, read.partitions) == [(RAW1, 0, 0)]


def test_healthy_partitions_did_not_go_back() -> None:
    # Tansu reports the start of the last batch + 1: below what was read, but never 0 when a
    # message is there, and never below what it reported before.
    read = {("raw.reports", 0), ("raw.reports", 1)}
    assert partitions_gone_back({RAW0: 1, RAW1: 12}, {RAW0: 1, RAW1: 9}, read) == []
    # A partition never read from may be empty.
    assert partitions_gone_back({RAW0: 0, RAW1: 0}, {}, set()) == []
