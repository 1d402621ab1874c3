"""Run `attrition worker` as a child process, and wait until it has caught up.

`attrition run` and the integration tests use this: a real worker process (so SIGKILL and
restart tests are real), stopped by its PID."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import TopicPartition

from attrition.broker.consumer_progress import group_lag
from attrition.settings import Settings


def _env(settings: Settings) -> dict[str, str]:
    from attrition.cli.options import settings_env

    return settings_env(settings)


@dataclass
class WorkerProcess:
    settings: Settings
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> WorkerProcess:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "attrition.cli.main", "worker"],
            env=_env(self.settings),
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM (Faust finishes in-flight events, commits, flushes), then SIGKILL."""
        proc, self.process = self.process, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def kill(self) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


async def wait_until_idle(
    settings: Settings,
    *,
    timeout_s: float = 300.0,
    settle_checks: int = 3,
    interval_s: float = 1.0,
    worker: WorkerProcess | None = None,
) -> None:
    """Return once the group's lag is zero on every consumed topic for `settle_checks` checks.

    Several checks in a row, because a stage that just consumed its input may not have produced
    its output yet; Faust commits every quarter second here."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    lag: dict[TopicPartition, int] = {}
    while time.monotonic() < deadline:
        if worker is not None and not worker.alive():
            raise RuntimeError("the worker exited before the pipeline was idle (see its log)")
        lag = await group_lag(settings)
        total = sum(lag.values())
        quiet = quiet + 1 if total == 0 else 0
        if quiet >= settle_checks:
            return
        await asyncio.sleep(interval_s)
    behind = {str(tp): n for tp, n in lag.items() if n}
    raise TimeoutError(f"pipeline not idle after {timeout_s:.0f}s; lag {behind}")
