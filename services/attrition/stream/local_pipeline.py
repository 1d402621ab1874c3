"""A whole pipeline on this machine: the embedded broker (unless a broker is configured) and a
worker process, for `attrition run`, `attrition backfill` and the integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

from attrition.broker.embedded_broker import EmbeddedBroker, free_port
from attrition.settings import Settings
from attrition.stream.worker_process import WorkerProcess, wait_until_idle


@contextmanager
def local_pipeline(settings: Settings, *, say: object = print) -> Iterator[LocalPipeline]:
    embedded: EmbeddedBroker | None = None
    if not settings.broker:
        embedded = EmbeddedBroker(binary=settings.tansu_bin).start()
        say(f"embedded broker on {embedded.url} (pid {embedded.pid})")  # type: ignore[operator]
        settings = settings.model_copy(update={"broker": embedded.url, "embedded_broker": True})
    if settings.web_enabled and settings.web_port == Settings.model_fields["web_port"].default:
        settings = settings.model_copy(update={"web_port": free_port()})
    log_path = Path(settings.data_dir) / "worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    worker = WorkerProcess(settings, log_path=log_path).start()
    say(f"worker pid {worker.pid}, web port {settings.web_port}, log {log_path}")  # type: ignore[operator]
    pipeline = LocalPipeline(settings, worker, embedded, log_path)
    try:
        yield pipeline
    finally:
        pipeline.exit_code = worker.stop()
        if embedded is not None:
            embedded.stop()


class LocalPipeline:
    def __init__(
        self,
        settings: Settings,
        worker: WorkerProcess,
        broker: EmbeddedBroker | None,
        log_path: Path,
    ) -> None:
        self.settings = settings
        self.worker = worker
        self.broker = broker
        self.log_path = log_path
        self.exit_code: int | None = None

    def wait_until_idle(self, timeout_s: float) -> None:
        asyncio.run(wait_until_idle(self.settings, timeout_s=timeout_s, worker=self.worker))


def last_failure(log_path: Path) -> str | None:
    """Why a worker stopped, as its log says it: the last CRITICAL record of attrition's own
    loggers, else their last ERROR, else the same of any logger (Faust's own last word on a
    crash is only that it crashed).

    Reads the JSON lines the worker writes to a file (`log_format` auto); lines that are not
    JSON records (a traceback printed by the interpreter) are passed over."""
    if not log_path.exists():
        return None
    found: dict[tuple[bool, str], str] = {}
    with log_path.open("rb") as log:
        for line in log:
            if b'"level":"critical"' not in line and b'"level":"error"' not in line:
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict) and isinstance(record.get("message"), str):
                ours = str(record.get("logger", "")).startswith("attrition")
                found[(ours, str(record.get("level")))] = record["message"]
    for choice in ((True, "critical"), (True, "error"), (False, "critical"), (False, "error")):
        if choice in found:
            return found[choice]
    return None
