"""`take_until_quiet`: Faust's `stream.take_events`, that also hands a batch over once its input
has gone quiet.

With `take_events`, the last messages of a burst wait out the whole `within` window before the
agent sees them: the sinks' window is 0.5 s (large writes are what a warehouse does well), so a
burst reached the warehouse, and its offsets were committed, up to half a second after its
last message had arrived, however small the last batch was. Here a batch is handed over when
it is full, when `within` has run since the agent came back for it (or since its first message,
if that came later), or when no message has arrived for `quiet` seconds. Under load the
batches are as large as before; at the end of a burst the last one goes `quiet` seconds after
its last message.

Unlike `take_events`, the buffer keeps filling while the agent works on a batch (up to `max_`
messages, then the stream waits): that is how the quiet is seen even then.

The acks are Faust's: every event of a batch is acked once the agent has finished with it, in
a `finally` (stream/batches.py builds the at-least-once holds on that)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any

__all__ = ["take_until_quiet"]


def take_until_quiet(
    stream: Any,
    max_: int,
    within: float,
    quiet: float,
    on_drained: Callable[[], None] = lambda: None,
) -> AsyncGenerator[list[Any], None]:
    """Batches of at most `max_` events of `stream` (see the module's docstring). Use it like
    `stream.take_events(max_, within=within)`. `on_drained` is called once a batch is acked
    and nothing more is buffered: the end of a burst (stream/prompt_commits.py)."""
    batches = _batches(stream, max_, within, quiet, on_drained)
    # As Faust does for its own takes: the stream closes the generator when it stops, so its
    # processor is removed even if no one finishes iterating it.
    stream._active_agens.add(batches)
    return batches


async def _batches(
    stream: Any, max_: int, within: float, quiet: float, on_drained: Callable[[], None]
) -> AsyncGenerator[list[Any], None]:
    loop = asyncio.get_running_loop()
    events: list[Any] = []
    first_at = last_at = 0.0
    arrived = asyncio.Event()  # the buffer went from empty to holding a message
    full = asyncio.Event()
    taken = asyncio.Event()  # a full buffer was handed over: the stream may add again

    async def add_to_buffer(value: Any) -> Any:
        # A stream processor: runs for every message the stream receives, in the stream's own
        # task (`_enable_passive` below), before the message is anyone else's.
        nonlocal first_at, last_at
        try:
            event = stream.current_event
            if event is None:
                raise RuntimeError("take buffer found current_event is None")
            last_at = loop.time()
            if not events:
                first_at = last_at
                arrived.set()
            events.append(event)
            if len(events) >= max_:
                full.set()
                # No more than max_ in a batch, and no more than two batches' worth in memory.
                taken.clear()
                await stream.wait(taken)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            stream.log.exception("Error adding to take buffer: %r", exc)
            await stream.crash(exc)
        return value

    acks_were = stream.enable_acks
    stream.enable_acks = False  # acked below, once the agent is done with each batch
    stream.add_processor(add_to_buffer)
    stream._enable_passive(aiter(stream.channel))
    came_back = loop.time()
    try:
        # mode's wait reports a timeout as a stop: `should_stop` tells them apart.
        while not stream.should_stop:
            if not events:
                arrived.clear()
                await stream.wait_for_stopped(arrived)
                if not stream.should_stop:
                    continue
            elif len(events) < max_:
                due = min(max(first_at, came_back) + within, last_at + quiet)
                left = due - loop.time()
                if left > 0:
                    # Woken when full or at `due`; a message since then moves `due` on.
                    await stream.wait_for_stopped(full, timeout=left)
                    if not stream.should_stop:
                        continue
            if not events:
                continue
            # Full, due, or the stream stopping: as Faust's take does, the agent gets what is
            # buffered once more when it stops (a sink writes it, or gives it up at once;
            # left in the buffer, the worker's stop would wait for its acks).
            batch, events = events, []
            full.clear()
            taken.set()
            try:
                yield batch
            finally:
                for event in batch:
                    await stream.ack(event)
                came_back = loop.time()
                if not events:
                    on_drained()
    finally:
        stream.enable_acks = acks_were
        stream._processors.remove(add_to_buffer)
