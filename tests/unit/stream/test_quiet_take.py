"""stream/quiet_take.py: a batch goes when full, when its window has run, or once its input has
been quiet; each event is acked after its batch. Beside Faust's own take where they differ."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any

import faust

from attrition.stream.quiet_take import take_until_quiet

Take = Callable[[Any, int, float, float], AsyncGenerator[Any, None]]


def _faust_take(stream: Any, max_: int, within: float, quiet: float) -> AsyncGenerator[Any, None]:
    return stream.take_events(max_, within=within)  # type: ignore[no-any-return]


class Recorder:
    """An agent taking batches with `take`, noting when each came and what it held; the first
    batch keeps the agent busy for `busy_first` seconds."""

    def __init__(
        self, take: Take, max_: int, within: float, quiet: float, busy_first: float = 0.0
    ) -> None:
        self.app = faust.App("quiet-take-test", broker="kafka://127.0.0.1:9", autodiscover=False)
        self.batches: list[tuple[float, list[Any]]] = []
        self.returned: list[float] = []
        self.acked_inside: list[bool] = []
        self.messages: list[Any] = []
        self.streams: list[Any] = []

        async def record(stream: Any) -> None:
            self.streams.append(stream)
            async for batch in take(stream, max_, within, quiet):
                self.batches.append((time.monotonic(), [e.value for e in batch]))
                self.messages.extend(e.message for e in batch)
                self.acked_inside.extend(e.message.acked for e in batch)
                if len(self.batches) == 1 and busy_first:
                    await asyncio.sleep(busy_first)
                self.returned.append(time.monotonic())

        self.agent = self.app.agent(name="record")(record)


async def _put(ctx: Any, values: range, every: float = 0.0) -> None:
    for value in values:
        await ctx.put(value)
        if every:
            await asyncio.sleep(every)


async def test_the_end_of_a_burst_goes_once_the_input_is_quiet() -> None:
    """Faust's take holds the last messages for its whole window; this one for `quiet`."""
    waited: dict[str, float] = {}
    for name, take in (("faust", _faust_take), ("quiet", take_until_quiet)):
        recorder = Recorder(take, max_=100, within=0.8, quiet=0.1)
        async with recorder.agent.test_context() as ctx:
            began = time.monotonic()
            await _put(ctx, range(3))
            await asyncio.sleep(1.0)
        [(at, values)] = recorder.batches
        assert values == [0, 1, 2]
        waited[name] = at - began
    assert waited["faust"] >= 0.7
    assert 0.08 <= waited["quiet"] < 0.5


async def test_a_steady_input_is_taken_in_windows_not_message_by_message() -> None:
    recorder = Recorder(take_until_quiet, max_=1000, within=0.3, quiet=0.1)
    async with recorder.agent.test_context() as ctx:
        began = time.monotonic()
        await _put(ctx, range(40), every=0.02)  # never quiet for 0.1 s: 0.8 s in all
        await asyncio.sleep(0.5)
    sizes = [len(values) for _, values in recorder.batches]
    assert sum(sizes) == 40
    assert 3 <= len(sizes) <= 5  # a batch per window of 0.3 s, and the rest once quiet
    assert recorder.batches[0][0] - began >= 0.25


async def test_a_full_batch_goes_at_once_and_none_holds_more_than_max() -> None:
    recorder = Recorder(take_until_quiet, max_=4, within=5.0, quiet=5.0)
    async with recorder.agent.test_context() as ctx:
        began = time.monotonic()
        await _put(ctx, range(10))
        await asyncio.sleep(0.2)
        assert [values for _, values in recorder.batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]
        assert recorder.batches[1][0] - began < 1.0  # full: not held for the 5 s window


async def test_what_came_while_the_agent_worked_goes_when_it_is_back_if_quiet() -> None:
    """Messages that came during a long batch and then stopped: Faust's take starts a window
    when the agent comes back; this one sees they have been quiet and hands them over."""
    waits: dict[str, float] = {}
    for name, take in (("faust", _faust_take), ("quiet", take_until_quiet)):
        recorder = Recorder(take, max_=100, within=0.3, quiet=0.05, busy_first=0.6)
        async with recorder.agent.test_context() as ctx:
            await _put(ctx, range(1))
            await asyncio.sleep(0.4)  # the first batch is out (either way) and the agent busy
            await _put(ctx, range(1, 4))
            await asyncio.sleep(1.2)
        (_, first), (second_at, second) = recorder.batches
        assert (first, second) == ([0], [1, 2, 3])
        waits[name] = second_at - recorder.returned[0]
    assert waits["faust"] >= 0.25
    assert waits["quiet"] < 0.15


async def test_each_event_is_acked_after_its_batch_is_done() -> None:
    recorder = Recorder(take_until_quiet, max_=3, within=0.05, quiet=0.05)
    async with recorder.agent.test_context() as ctx:
        await _put(ctx, range(7), every=0.01)
        await asyncio.sleep(0.3)
    assert len(recorder.messages) == 7
    assert not any(recorder.acked_inside)
    assert all(message.acked for message in recorder.messages)


async def test_what_is_buffered_goes_to_the_agent_once_more_when_the_stream_stops() -> None:
    """As with Faust's take: left in the buffer, those messages would never be acked, and the
    worker's stop would wait for them."""
    recorder = Recorder(take_until_quiet, max_=100, within=30.0, quiet=30.0)
    async with recorder.agent.test_context() as ctx:
        await _put(ctx, range(3))
        await asyncio.sleep(0.2)
        assert recorder.batches == []
        await recorder.streams[0].stop()
        await asyncio.sleep(0.2)
    assert [values for _, values in recorder.batches] == [[0, 1, 2]]
    assert all(message.acked for message in recorder.messages)


async def test_a_drained_buffer_is_reported_once_its_batches_are_acked() -> None:
    """`on_drained`: what asks for a prompt commit at the end of a burst
    (stream/prompt_commits.py). Never while messages are buffered, never before the acks."""
    drained: list[tuple[int, bool]] = []

    def take(stream: Any, max_: int, within: float, quiet: float) -> AsyncGenerator[Any, None]:
        def report() -> None:
            taken = recorder.messages
            drained.append((len(taken), all(m.acked for m in taken)))

        return take_until_quiet(stream, max_, within, quiet, on_drained=report)

    recorder = Recorder(take, max_=2, within=0.05, quiet=0.05)
    async with recorder.agent.test_context() as ctx:
        await _put(ctx, range(5))
        await asyncio.sleep(0.3)
        assert drained and drained[-1] == (5, True)
        reports = len(drained)
        await _put(ctx, range(5, 6))
        await asyncio.sleep(0.3)
        assert drained[reports:] == [(6, True)]
    assert all(acked for _, acked in drained)
