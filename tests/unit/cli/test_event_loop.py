"""The worker's event loop follows `ATTRITION_EVENT_LOOP`, and uvloop comes with the fix for
its writes to reset connections. Checked in a child interpreter: the choice is process-wide
(an event loop policy, a patched aiokafka) and must not leak into this test session."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import asyncio
from attrition.cli.pipeline_commands import use_event_loop
from attrition.settings import Settings
use_event_loop(Settings().event_loop)
from aiokafka.conn import AIOKafkaConnection
loop = asyncio.new_event_loop()
print(type(loop).__module__, hasattr(AIOKafkaConnection.send, "__wrapped__"))
loop.close()
"""


def _loop_module(env_value: str | None) -> tuple[str, str]:
    env = {"PATH": "/usr/bin:/bin"}
    if env_value is not None:
        env["ATTRITION_EVENT_LOOP"] = env_value
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    module, patched = done.stdout.split()
    return module, patched


def test_the_worker_runs_on_uvloop_by_default_with_the_reset_write_fix() -> None:
    assert _loop_module(None) == ("uvloop", "True")


def test_asyncio_loop_can_be_chosen_and_needs_no_fix() -> None:
    module, patched = _loop_module("asyncio")
    assert module.startswith("asyncio")
    assert patched == "False"


def test_an_unknown_loop_is_refused() -> None:
    with pytest.raises(subprocess.CalledProcessError) as refused:
        _loop_module("twisted")
    assert "event_loop" in refused.value.stderr
