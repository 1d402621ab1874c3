"""Agents that take their events in batches (`stream.take_events`) and stay at-least-once.

Faust commits an offset only once every stream reading the message has acked it, and flushes
the producer before it commits; these helpers make sure that an ack comes only after the
batch's effects have been handed to the producer, even when the agent fails mid-batch."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from faust.streams import _current_event


def hold(events: Sequence[Any]) -> None:
    """Take a reference on each message so that the batch iterator's ack cannot commit it.

    `take_events` acks a batch in a `finally`, which also runs when the agent fails mid-batch;
    the reference makes that ack a non-final one, so a failed batch is redelivered after a
    restart instead of committed with its effects unsent."""
    for event in events:
        event.message.incref()


def release(events: Sequence[Any]) -> None:
    """Drop the references `hold` took, once every effect of the batch has been handed to the
    producer (Faust flushes the producer before it commits offsets)."""
    for event in events:
        event.message.decref()


def as_current(event: Any) -> None:
    """Make `event` the one Faust's table writes take their partition from.

    `take_events` drains the stream in another task, so the agent's own context has no current
    event; a table write then fails ("outside of stream iteration")."""
    _current_event.set(weakref.ref(event))
