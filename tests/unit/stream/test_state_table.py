"""stream/state_table.py: a key's state is read from its own partition's store."""

from __future__ import annotations

import weakref
from pathlib import Path
from types import SimpleNamespace

import faust
import pytest
from faust.streams import _current_event

from attrition.settings import RECORD_OVERHEAD_BYTES
from attrition.stream.state_table import StateTable, StateTooLarge


class Event:
    """What the store reads of Faust's current event: its message's partition."""

    def __init__(self, partition: int) -> None:
        self.message = SimpleNamespace(topic="loss-events", partition=partition)


def _table(tmp_path: Path) -> StateTable:
    app = faust.App(
        "state-table-test",
        broker="kafka://127.0.0.1:9",  # never contacted: the store is local
        store="rocksdb://",
        datadir=str(tmp_path),
        autodiscover=False,
    )
    table = StateTable(
        app, name="ledgers", default=None, partitions=2, key_type=bytes, value_type=bytes
    )
    app.tables.add(table)
    return table


def test_a_key_is_read_from_its_own_partition_whatever_event_is_current(tmp_path: Path) -> None:
    table = _table(tmp_path)
    own, other = Event(0), Event(1)
    _current_event.set(weakref.ref(own))
    table.data[b"ua_general_staff/russia/tanks"] = b"ledger"  # stored in partition 0's database
    _current_event.set(weakref.ref(other))
    try:
        # Faust's own read looks in the current event's partition only: the key seems absent.
        assert table.get(b"ua_general_staff/russia/tanks") is None
        assert table.get_for(b"ua_general_staff/russia/tanks", own) == b"ledger"
        assert table.get_for(b"ua_general_staff/russia/aircraft", own) is None
    finally:
        _current_event.set(None)


def test_a_key_is_written_to_its_own_partition_and_changelog_partition(tmp_path: Path) -> None:
    table = _table(tmp_path)
    own, other = Event(1), Event(0)
    _current_event.set(weakref.ref(other))  # the last key written was of partition 0, say
    try:
        table.set_for(b"ua_general_staff/russia/tanks", b"ledger", own)
        _current_event.set(weakref.ref(other))
        assert table.get(b"ua_general_staff/russia/tanks") is None  # not in partition 0's
        assert table.get_for(b"ua_general_staff/russia/tanks", own) == b"ledger"
        [sent] = table.take_sent()
        assert sent.message.partition == 1 and sent.message.value == b"ledger"
        assert table.take_sent() == []
    finally:
        _current_event.set(None)


def test_a_state_larger_than_a_record_is_refused_saying_so(tmp_path: Path) -> None:
    table = _table(tmp_path)
    table.max_record_bytes = 65_536
    own = Event(0)
    try:
        with pytest.raises(StateTooLarge, match=r"ua_general_staff/russia/tanks is 70,000 bytes"):
            table.set_for(b"ua_general_staff/russia/tanks", b"x" * 70_000, own)
        assert table.take_sent() == []  # nothing reached the changelog
        table.set_for(b"ua_general_staff/russia/tanks", b"x" * 60_000, own)
        assert len(table.take_sent()) == 1
    finally:
        _current_event.set(None)


def test_the_largest_record_written_is_kept_for_the_metric(tmp_path: Path) -> None:
    table = _table(tmp_path)
    table.max_record_bytes = 65_536
    key = b"ua_general_staff/russia/tanks"
    own = Event(0)
    try:
        assert table.largest_record_bytes == 0
        table.set_for(key, b"x" * 30_000, own)
        written = table.largest_record_bytes
        assert written == len(key) + 30_000 + RECORD_OVERHEAD_BYTES  # as the limit counts it
        table.set_for(key, b"x" * 10_000, own)  # smaller: the largest stays
        assert table.largest_record_bytes == written
        with pytest.raises(StateTooLarge):
            table.set_for(key, b"x" * 70_000, own)
        assert table.largest_record_bytes == written  # refused, never written
    finally:
        _current_event.set(None)
