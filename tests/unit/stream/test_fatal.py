"""stream/fatal.py: a worker process whose crash does not end it ends itself, and only when the
worker command armed that (a process running an app in a test is never ended); a graceful stop
gives up what is still in flight after its grace."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import faust
import pytest
from faust.types import Message

from attrition.stream import fatal

SCRIPT = """
import asyncio, sys, time
from attrition.stream import fatal

class AppThatNeverStops:  # Faust's crash, when its stop hangs: returns, and nothing exits
    async def crash(self, reason):
        print("crashed:", reason, flush=True)

fatal.HARD_EXIT_SECONDS = 0.5
if sys.argv[1] == "armed":
    fatal.arm_hard_exit()
asyncio.run(fatal.stop_worker(AppThatNeverStops(), RuntimeError("state too large")))
time.sleep(3)
print("still running", flush=True)
"""


def _run(mode: str) -> tuple[subprocess.CompletedProcess[str], float]:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=30
    )
    return done, time.monotonic() - began


def test_an_armed_worker_exits_by_itself_after_the_grace() -> None:
    done, took = _run("armed")
    assert done.returncode == 1
    assert "crashed: state too large" in done.stdout
    assert "still running" not in done.stdout
    assert took < 3
    assert "did not stop within" in done.stderr


def test_an_unarmed_process_is_left_alone() -> None:
    done, _ = _run("unarmed")
    assert done.returncode == 0
    assert "still running" in done.stdout


async def test_a_stop_gives_up_the_messages_still_in_flight_after_its_grace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`give_up_in_flight_after` on a real Faust consumer (never started): after the grace,
    what it still counts as in flight is out of the set its graceful stop waits on."""
    app = faust.App("fatal-test", broker="kafka://127.0.0.1:9", autodiscover=False)
    consumer = app.consumer
    held = [Message("loss-events", 0, offset, 0.0, 0, {}, b"k", b"v", None) for offset in range(3)]
    for message in held:
        consumer.track_message(message)
    assert len(consumer._unacked_messages) == 3
    bound = asyncio.ensure_future(fatal.give_up_in_flight_after(consumer, 0.05))
    await asyncio.sleep(0.01)
    assert len(consumer._unacked_messages) == 3  # not before the grace is over
    await bound
    assert len(consumer._unacked_messages) == 0
    assert not any(m.acked for m in held)  # given up, never acked: never committed
    assert "3 messages not acked 0 s after the stop began" in caplog.text
