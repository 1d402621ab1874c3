"""Each framed message decoded once per worker, however many of its stages read it.

In one worker the totals and sink stages get the very same loss-events message, the alert and
sink stages the same deltas message; validating a batch with pydantic was the largest single
cost of the worker's loop (23 % in a profile of the pipeline), paid twice. The first reader
decodes, the others get the same list of (frozen) events. Readers must not change the list."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from attrition.settings import Settings

E = TypeVar("E")

#: Most events kept for readers that have not come yet; beyond it the oldest are dropped and
#: those readers decode for themselves (a stage far behind another costs memory otherwise).
MAX_HELD_EVENTS = 200_000


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
    def __init__(self, readers: Mapping[str, int], max_held: int = MAX_HELD_EVENTS) -> None:
        self._readers = dict(readers)
        self._max_held = max_held
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
            return decode(message.value)
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
        decoded = decode(message.value)
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

    @property
    def held(self) -> int:
        """Events kept for readers still to come."""
        return self._held
