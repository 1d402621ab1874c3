"""stream/broker_watch.py: which partitions' logs went back, which topics were recreated."""

from __future__ import annotations

from uuid import UUID

from aiokafka import TopicPartition
from faust.types import TP

from attrition.stream.broker_watch import (
    PartitionsRead,
    lost_data_message,
    partitions_gone_back,
    suspects,
    topics_recreated,
)

RAW0, RAW1 = TopicPartition("raw.reports", 0), TopicPartition("raw.reports", 1)


def test_a_reported_end_offset_below_one_reported_before_went_back() -> None:
    gone = partitions_gone_back({RAW0: 3, RAW1: 40}, {RAW0: 57, RAW1: 40}, {}, {})
    assert gone == [(RAW0, 57, 3)]


def test_the_sensor_keeps_the_highest_offset_read_per_partition() -> None:
    read = PartitionsRead()
    # Faust's TP, as its consumer passes it; a redelivery after a rebalance reads lower again.
    for offset in (4, 11, 7):
        read.on_message_in(TP("raw.reports", 1), offset, None)
    assert read.offsets == {("raw.reports", 1): 11}
    assert RAW1 in read.offsets  # aiokafka's TopicPartition finds Faust's TP


def test_a_partition_read_from_and_now_empty_went_back_though_no_end_was_seen() -> None:
    """The broker restarted empty before the watch first ran: only the reads tell."""
    read = {("raw.reports", 1): 11}
    reported = {RAW0: 0, RAW1: 0}
    assert suspects(reported, read) == [RAW1]
    assert partitions_gone_back(reported, {}, read, {RAW1: 0}) == [(RAW1, 12, 0)]


def test_a_new_log_shorter_than_what_was_read_went_back_though_it_holds_messages() -> None:
    """The broker restarted empty and took three new messages before the watch first ran."""
    read = {("raw.reports", 0): 40, ("raw.reports", 1): 11}
    reported = {RAW0: 3, RAW1: 1}  # Tansu: start of the last batch + 1
    assert suspects(reported, read) == [RAW0, RAW1]
    true_ends = {RAW0: 3, RAW1: 3}
    assert partitions_gone_back(reported, {}, read, true_ends) == [(RAW0, 41, 3), (RAW1, 12, 3)]


def test_tansus_short_reported_ends_are_judged_by_their_true_ends() -> None:
    # A batch of 12 messages at offsets 0-11, all read: Tansu reports 1, the fetch says 12.
    read = {("raw.reports", 0): 11}
    reported = {RAW0: 1, RAW1: 0}
    assert suspects(reported, read) == [RAW0]
    assert partitions_gone_back(reported, {RAW0: 1}, read, {RAW0: 12}) == []
    # The true end is not compared with the reported ends before it: a later reported end
    # below an earlier true end is the quirk, not a loss.
    assert partitions_gone_back({RAW0: 9}, {RAW0: 9}, {("raw.reports", 0): 30}, {}) == []


def test_healthy_partitions_did_not_go_back() -> None:
    read = {("raw.reports", 0): 0, ("raw.reports", 1): 8}
    reported = {RAW0: 1, RAW1: 12}
    assert suspects(reported, read) == []
    assert partitions_gone_back(reported, {RAW0: 1, RAW1: 9}, read, {}) == []
    # A partition never read from may be empty.
    assert suspects({RAW0: 0, RAW1: 0}, {}) == []
    assert partitions_gone_back({RAW0: 0, RAW1: 0}, {}, {}, {}) == []


def test_a_suspect_whose_true_end_is_unknown_is_not_judged() -> None:
    """The fetch got no answer in time (a loaded broker): the next look judges it."""
    read = {("raw.reports", 0): 11}
    assert partitions_gone_back({RAW0: 1}, {RAW0: 1}, read, {}) == []


ID_A = UUID("01a23ccb-d799-7fe0-b839-54299be91e70")
ID_B = UUID("01a23ccb-da13-7233-acf3-67f11eb55134")


def test_a_new_log_grown_past_what_was_read_is_told_by_its_topics_new_id() -> None:
    """The gap the offsets leave: after the restart the log grew past every offset read."""
    read = {("raw.reports", 0): 11, ("raw.reports", 1): 11}
    reported = {RAW0: 90, RAW1: 90}
    assert partitions_gone_back(reported, {RAW0: 12, RAW1: 12}, read, {}) == []
    assert topics_recreated({"raw.reports": ID_A}, {"raw.reports": ID_B}) == [
        ("raw.reports", ID_A, ID_B)
    ]


def test_a_topic_gone_is_recreated_and_a_passing_error_is_not_judged() -> None:
    known = {"raw.reports": ID_A, "loss.events": ID_B}
    # loss.events answered with another error (left out of the answer): no verdict on it.
    assert topics_recreated(known, {"raw.reports": None}) == [("raw.reports", ID_A, None)]
    assert topics_recreated(known, {"raw.reports": ID_A, "loss.events": ID_B}) == []
    # A topic first seen now has nothing to differ from.
    assert topics_recreated({}, {"raw.reports": ID_B}) == []


def test_the_message_gives_the_evidence_of_each_kind() -> None:
    by_ids = lost_data_message([("raw.reports", ID_A, ID_B)], [])
    assert f"raw.reports, whose id went from {ID_A} to {ID_B}" in by_ids
    assert "went back" not in by_ids
    by_offsets = lost_data_message([], [(RAW1, 12, 1)])
    assert "from an end offset of at least 12 to 1)" in by_offsets
    assert "recreated" not in by_offsets
    gone = lost_data_message([("raw.reports", ID_A, None)], [])
    assert "(e.g. raw.reports, gone)" in gone
    both = lost_data_message([("raw.reports", ID_A, ID_B)], [(RAW1, 12, 1)])
    assert "whose id went from" in both and "from an end offset of at least 12 to 1)" in both
    assert all(m.startswith("the broker lost its data: ") for m in (by_ids, by_offsets, gone, both))
