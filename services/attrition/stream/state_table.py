"""The tables that hold a stage's state per key, with changelog writes that can be awaited.

A table write queues its changelog record in Faust's producer buffer (`send_soon`). Faust
flushes that buffer before it commits offsets, but the flush (faust-streaming 0.15,
`ProducerBuffer.flush_atmost`) stops once the buffer is empty, while the last record taken
from it may still be waiting for room in the Kafka client's batch (a ledger is some 100 KB),
and gives up altogether after 0.1 s without a send. A commit can then carry offsets past
messages whose state never reached the broker; a worker killed at that moment restores an
older state and recomputes what followed from it: a SIGKILL test saw 48 delta ids sent twice
with different contents. So a stage acks a message only once the changelog records of the
state holding its effects are delivered (`take_sent`, stream/deferred_writes.py).

A stage reads and writes a key's state naming a message of that key (`get_for`, `set_for`):
Faust takes the partition of a table access from its current event, and a stage that takes
batches has none of its own (`take_events` drains the stream in another task)."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import faust
from faust.streams import _current_event
from faust.types import FutureMessage

from attrition.broker.table_entries import LEDGER_TABLE
from attrition.settings import record_bytes

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp


class StateTooLarge(ValueError):
    """A key's state does not fit in one record of its changelog."""


class StateUnreadable(ValueError):
    """A key's table entry does not decode: damaged, or written by something else."""

    def __init__(self, table: str, key: bytes, cause: BaseException) -> None:
        named = key.decode(errors="replace")
        remedy = (
            f"rebuild it from the warehouse (`attrition state rebuild {named}`) or remove it "
            f"(`attrition state drop {named} --table {table}`: the key starts over)"
            if table == LEDGER_TABLE
            else f"remove it (`attrition state drop {named} --table {table}`: the key starts over)"
        )
        super().__init__(
            f"the {table} state of {named} does not decode ({cause!r}): with the workers "
            f"stopped, {remedy}"
        )


class StateTable(faust.Table[bytes, bytes]):
    """A `faust.Table` that keeps the futures of the changelog records it sends (each resolves
    once the broker has the record) until `take_sent` hands them over, and refuses a state
    larger than a record may be (`max_record_bytes`) with an error that says so: Faust's
    producer buffer crashed on it, and the stage hung."""

    def __init__(self, *args: Any, max_record_bytes: int = 1_000_000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sent: list[FutureMessage] = []
        self.max_record_bytes = max_record_bytes
        #: The largest record this worker has written to the changelog since it started (key,
        #: value and overhead, as `max_record_bytes` counts them): a ledger grows with its
        #: key's history, and the metric of it warns long before the limit stops the stage.
        self.largest_record_bytes = 0

    def send_changelog(self, *args: Any, **kwargs: Any) -> FutureMessage:
        sent: FutureMessage = super().send_changelog(*args, **kwargs)
        self._sent.append(sent)
        return sent

    def get_for(self, key: bytes, event: Any) -> bytes | None:
        """The key's entry, read with `event` (a message of the key, so of its partition) as
        the current event.

        Faust's rocksdb store looks a key up in the database of the current event's partition
        alone: with whatever message was current before (the last key written, say), a key of
        another partition reads as absent and its state would start over. The memory store
        ignores the partition."""
        _as_current(event)
        found: bytes | None = self.get(key)
        return found

    def set_for(self, key: bytes, value: bytes, event: Any) -> None:
        """Store the key's entry with `event` (a message of the key) as the current event:
        it decides the store's partition and the changelog record's."""
        size = record_bytes(key, value)
        if size > self.max_record_bytes:
            raise StateTooLarge(
                f"the {self.name} state of {key.decode(errors='replace')} is {len(value):,} "
                f"bytes, more than one record may hold (ATTRITION_MAX_RECORD_BYTES, "
                f"{self.max_record_bytes:,}; the brokers' message.max.bytes must allow as much)"
            )
        _as_current(event)
        self[key] = value
        self.largest_record_bytes = max(self.largest_record_bytes, size)

    def take_sent(self) -> list[FutureMessage]:
        """The changelog records sent since the last call."""
        sent, self._sent = self._sent, []
        return sent


def _as_current(event: Any) -> None:
    # Faust keeps a weak reference: the caller holds the event for as long as it matters.
    _current_event.set(weakref.ref(event))


def state_table(app: AttritionApp, name: str) -> StateTable:
    """One entry per key of the input topic, as bytes (the pure core owns the state encoding;
    bytes take Faust's raw serializer), partitioned like the input so that each worker holds
    the state of the partitions it consumes."""
    table = StateTable(
        app,
        name=name,
        default=None,
        beacon=app.tables.beacon,
        partitions=app.settings.topics.partitions,
        key_type=bytes,
        value_type=bytes,
        max_record_bytes=app.settings.max_record_bytes,
    )
    app.tables.add(table)
    return table
