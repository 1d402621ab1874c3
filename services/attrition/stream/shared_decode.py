"""Each framed message decoded once per worker, however many of its stages read it.

In one worker the totals and sink stages get the very same loss-events message, the alert and
sink stages the same deltas message; validating a batch with pydantic was the largest single
cost of the worker's loop (23 % in a profile of the pipeline), paid twice. The first reader
decodes, the others get the same list of (frozen) events. Readers must not change the list.

A stage of this worker that sends a framed message another of its stages reads (the parse stage
its loss events, the totals stage its deltas) tells the decoder what it sent (`sent`): when
the same bytes come back from the broker, the first reader gets the events they were encoded
from instead of validating them again (8 % of the worker's time in a profile of the pipeline).
Only messages bound for a partition this worker reads are kept (`reads_here`): decoded events
take about ten times their payload's memory, and the rest would never come back.
Equal bytes decode to equal events: the encoding is pydantic's own serialization of valid
events, and tests/unit/contracts/test_batches.py checks the round trip on every kind of event.
Bytes that differ in any way (another producer's, or damaged on the way) are validated."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from attrition.settings import Settings

E = TypeVar("E")

#: Most events kept for readers that have not come yet; beyond it the oldest are dropped and
#: those readers decode for themselves (a stage far behind another costs memory otherwise).
MAX_HELD_EVENTS = 200_000

#: Most bytes of sent messages kept for their return (their decoded events take about ten
#: times as much). A message comes back within a batch or two; past the bound (a stage far
#: ahead of its reader, or a rebalance that took the partition away) the oldest are let go.
MAX_SENT_BYTES = 8 * 1024 * 1024


def _everywhere(topic: str, key: bytes) -> bool:
    return True


def _nothing(topic: str) -> None:
    return None


def readers_per_topic(settings: Settings) -> dict[str, int]:
    """How many of this worker's stages read each framed topic (the stages that decode through
    the shared decoder; other topics are decoded by their one reader each)."""
    framed = (settings.topics.loss_events, settings.topics.deltas)
    readers = dict.fromkeys(framed, 0)
    for stage in settings.stages:
        for topic in settings.topics_read_by(stage):
            if topic in readers:
                readers[topic] += 1
    return readers


class SharedDecoder:
    def __init__(
        self,
        readers: Mapping[str, int],
        max_held: int = MAX_HELD_EVENTS,
        max_sent_bytes: int = MAX_SENT_BYTES,
        reads_here: Callable[[str, bytes], bool] = _everywhere,
    ) -> None:
        self._readers = dict(readers)
        # Whether a message of (topic, key) goes to a partition this worker reads now.
        self.reads_here = reads_here
        # Told the topic of each message handed back without a second validation (metrics).
        self.on_reused: Callable[[str], None] = _nothing
        self._max_held = max_held
        self._max_sent_bytes = max_sent_bytes
        # (topic, payload) → the events it was encoded from; insertion order = age
        self._sent: dict[tuple[str, bytes], list[Any]] = {}
        self._sent_bytes = 0
        # (topic, partition, offset) → (events, readers still to come); insertion order = age
        self._waiting: dict[tuple[str, int, int], tuple[list[Any], int]] = {}
        self._held = 0
        # Messages dropped for lack of room → readers still to come, who decode for themselves
        # (without this, their own decoding would be kept, and push out what is still wanted).
        self._dropped: dict[tuple[str, int, int], int] = {}

    def events(self, message: Any, decode: Callable[[bytes], list[E]]) -> list[E]:
        """The decoded events of `message` (a Faust message); a ValidationError is raised to
        every reader that asks, and nothing is kept for it."""
        readers = self._readers.get(message.topic, 1)
        if readers < 2:
            return self._decoded(message, decode)
        where = (message.topic, message.partition, message.offset)
        late = self._dropped.pop(where, 0)
        if late:
            if late > 1:
                self._dropped[where] = late - 1
            return decode(message.value)
        found = self._waiting.pop(where, None)
        if found is not None:
            events, left = found
            if left > 1:
                self._waiting[where] = (events, left - 1)
            else:
                self._held -= len(events)
            return events
        decoded = self._decoded(message, decode)
        self._waiting[where] = (decoded, readers - 1)
        self._held += len(decoded)
        while self._held > self._max_held and self._waiting:
            oldest = next(iter(self._waiting))
            events, left = self._waiting.pop(oldest)
            self._held -= len(events)
            self._dropped[oldest] = left
        while len(self._dropped) > self._max_held:  # readers that never came
            del self._dropped[next(iter(self._dropped))]
        return decoded

    def sent(self, topic: str, key: bytes, payload: bytes, events: list[Any]) -> None:
        """This worker sent `payload`, the encoding of `events`, to `topic` under `key`; kept
        only when a stage of this worker reads the partition it went to (and never changed:
        readers share it)."""
        if not self._readers.get(topic) or len(payload) > self._max_sent_bytes:
            return
        if not self.reads_here(topic, key):
            return
        where = (topic, payload)
        if where in self._sent:  # the same bytes twice (a replay): the first return takes it
            return
        self._sent[where] = events
        self._sent_bytes += len(payload)
        while self._sent_bytes > self._max_sent_bytes:
            oldest = next(iter(self._sent))
            del self._sent[oldest]
            self._sent_bytes -= len(oldest[1])

    def _decoded(self, message: Any, decode: Callable[[bytes], list[E]]) -> list[E]:
        value = message.value
        if self._sent and isinstance(value, bytes):
            events = self._sent.pop((message.topic, value), None)
            if events is not None:
                self._sent_bytes -= len(value)
                self.on_reused(message.topic)
                return events
        return decode(value)

    @property
    def sent_bytes(self) -> int:
        """Bytes of sent messages kept for their return."""
        return self._sent_bytes

    @property
    def held(self) -> int:
        """Events kept for readers still to come."""
        return self._held
