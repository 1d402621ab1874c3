"""What `attrition run` tells a user about a worker that stopped: the worker log's last word
of attrition's own loggers, preferred over Faust's own notice that it crashed."""

from __future__ import annotations

from pathlib import Path

import orjson

from attrition.stream.local_pipeline import last_failure


def _log(path: Path, *records: tuple[str, str, str]) -> Path:
    lines = [
        orjson.dumps({"ts": "t", "level": level, "logger": logger, "message": message})
        for level, logger, message in records
    ]
    path.write_bytes(b"\n".join([*lines, b"Traceback (most recent call last):", b"  boom"]))
    return path


def test_attritions_last_critical_wins_over_faust_and_earlier_errors(tmp_path: Path) -> None:
    log = _log(
        tmp_path / "worker.log",
        ("error", "attrition.stream.batches", "undecodable delta batch"),
        ("critical", "attrition.stream.sink_agent", "sink: no retry left; the worker stops"),
        ("info", "attrition.stream.app", "Stopping..."),
        ("critical", "faust.worker", "We experienced a crash! Reraising original exception..."),
    )
    assert last_failure(log) == "sink: no retry left; the worker stops"


def test_an_error_of_ours_then_anything_critical(tmp_path: Path) -> None:
    ours = _log(
        tmp_path / "a.log",
        ("critical", "faust.worker", "crashed"),
        ("error", "attrition.stream.batches", "first"),
        ("error", "attrition.stream.batches", "second"),
    )
    assert last_failure(ours) == "second"
    theirs = _log(tmp_path / "b.log", ("error", "aiokafka", "x"), ("critical", "faust.worker", "y"))
    assert last_failure(theirs) == "y"


def test_no_log_or_nothing_wrong(tmp_path: Path) -> None:
    assert last_failure(tmp_path / "missing.log") is None
    quiet = _log(tmp_path / "c.log", ("info", "attrition.stream.app", "Ready"))
    assert last_failure(quiet) is None
