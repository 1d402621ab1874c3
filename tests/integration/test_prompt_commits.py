"""The end of a burst is committed when its last messages are acked, not at the commit timer's
next tick (stream/prompt_commits.py): with the timer set to ten minutes, a worker's committed
offsets still cover every message of a burst within seconds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from attrition.bench.worker import wait_committed
from attrition.settings import Settings
from attrition.stream.worker_process import WorkerProcess, wait_until_idle
from pipeline_helpers import publish_docs, read_deltas
from report_fixtures import figures_for, report_series

pytestmark = pytest.mark.integration

DAYS = report_series(date(2024, 1, 1), 40, id_prefix="burst")


async def test_a_burst_is_committed_without_waiting_for_the_commit_timer(
    pipeline_settings: Settings, tmp_path: Path
) -> None:
    settings = pipeline_settings.model_copy(update={"commit_interval_seconds": 600.0})
    worker = WorkerProcess(settings, log_path=tmp_path / "worker.log").start()
    try:
        # The second burst comes after the stages have gone quiet and committed the first.
        for burst in (DAYS[:20], DAYS[20:]):
            await publish_docs(settings, burst)
            # Once the raw reports are committed their loss events are on the broker; each
            # stage commits its input only after handing its output over. So a lag of zero
            # on every topic the worker reads means the burst went through and was committed.
            await wait_committed(settings, [settings.topics.raw_reports], timeout_s=30)
            await wait_until_idle(
                settings, timeout_s=30, settle_checks=1, interval_s=0.1, worker=worker
            )
        deltas = await read_deltas(settings)
        assert len(deltas) == sum(len(figures_for(i)) for i in range(len(DAYS)))
    finally:
        assert worker.stop() == 0, (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
