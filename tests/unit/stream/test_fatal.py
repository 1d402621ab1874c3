"""stream/fatal.py: a worker process whose crash does not end it ends itself, and only when the
worker command armed that (a process running an app in a test is never ended)."""

from __future__ import annotations

import subprocess
import sys
import time

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
