"""The worker's event loop follows `ATTRITION_EVENT_LOOP`. Checked in a child interpreter:
the choice is process-wide (an event loop policy) and must not leak into this test session."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import asyncio
from attrition.cli.pipeline_commands import use_event_loop
from attrition.settings import Settings
use_event_loop(Settings().event_loop)
loop = asyncio.new_event_loop()
print(type(loop).__module__)
loop.close()
"""


def _loop_module(env_value: str | None) -> str:
    env = {"PATH": "/usr/bin:/bin"}
    if env_value is not None:
        env["ATTRITION_EVENT_LOOP"] = env_value
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_worker_runs_on_uvloop_by_default() -> None:
    assert _loop_module(None) == "uvloop"


def test_asyncio_loop_can_be_chosen() -> None:
    assert _loop_module("asyncio").startswith("asyncio")


def test_an_unknown_loop_is_refused() -> None:
    with pytest.raises(subprocess.CalledProcessError) as refused:
        _loop_module("twisted")
    assert "event_loop" in refused.value.stderr
