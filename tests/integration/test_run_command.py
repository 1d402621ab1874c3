"""`attrition run`, the README's main job, as a user runs it: its own embedded broker and worker
on the shipped sample, the totals printed at the end; and when the worker cannot do its work,
a plain account of why instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ATTRITION_")}
    return subprocess.run(
        [sys.executable, "-m", "attrition.cli.main", "run", "--until-idle", *args],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_run_publishes_the_sample_and_prints_its_totals(tmp_path: Path) -> None:
    done = _run(tmp_path, "--warehouse", str(tmp_path / "attrition.duckdb"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "published: sent 28, duplicates 0, rejected 0" in done.stderr
    # January 2023's last report in the sample: 125,510 personnel and 3,189 tanks.
    rows = {line.split("│")[3].strip(): line for line in done.stdout.splitlines() if "│" in line}
    assert "125,510" in rows["personnel"] and "2023-01-28" in rows["personnel"]
    assert "3,189" in rows["tanks"]
    assert len(rows) == 13
    assert "Traceback" not in done.stderr


def test_run_says_why_when_the_warehouse_cannot_be_written(tmp_path: Path) -> None:
    blocked = tmp_path / "attrition.duckdb"
    blocked.mkdir()  # a directory where the warehouse file should be
    done = _run(tmp_path, "--warehouse", str(blocked), ATTRITION_WAREHOUSE_RETRY_SECONDS="1")
    assert done.returncode == 1
    assert "the worker's log says:" in done.stderr
    assert "no retry left" in done.stderr and "Is a directory" in done.stderr
    assert "Traceback" not in done.stderr
