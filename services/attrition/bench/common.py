"""What every broker measurement needs: its own topics, a reader that timestamps the output as
it arrives, a child process stopped by its PID, and the peak memory of a process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from attrition.broker.tansu_end_offsets import true_end_offsets

_names = itertools.count()

# The broker reports no topic config unless one is given, and Quix Streams' stateful apps refuse
# such topics; a week, like Kafka's default, changes nothing for the other clients.
RETENTION_MS = str(7 * 24 * 3600 * 1000)


@dataclass(frozen=True)
class BenchContext:
    """The one broker of a bench run, and where its child processes write their logs."""

    bootstrap: str
    workdir: Path
    partitions: int = 4

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap}"

    def name(self, stage: str) -> str:
        """A prefix no other stage or earlier run on this broker uses."""
        return f"bench{os.getpid()}x{next(_names)}.{stage}"


async def create_topics(ctx: BenchContext, names: Sequence[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=ctx.bootstrap)
    await admin.start()
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [
                    NewTopic(
                        name=name,
                        num_partitions=ctx.partitions,
                        replication_factor=1,
                        topic_configs={"retention.ms": RETENTION_MS},
                    )
                    for name in names
                ]
            )
    finally:
        await admin.close()


def bench_producer(bootstrap: str) -> AIOKafkaProducer:
    # The publisher's settings (ingest/publisher.py), so every stage gets the same feed.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=10, max_batch_size=256 * 1024
    )


async def produce(bootstrap: str, topic: str, messages: Sequence[tuple[bytes, bytes]]) -> None:
    producer = bench_producer(bootstrap)
    await producer.start()
    try:
        futures = [await producer.send(topic, key=k, value=v) for k, v in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


@dataclass
class OutputWatcher:
    """Reads a topic from its start as it fills, noting when each record arrived here.

    `on_record` sees every (key, value, arrival time); `count` is what has arrived so far.
    With `framed`, a record is a batch of events (contracts/batches.py): `count` counts its
    events, and `on_event` sees each event as the dict its JSON decodes to. (It once saw each
    event's JSON again, encoded and decoded a second time: 50-90 ms of the bench's CPU for the
    20,000 deltas of the pipeline row, on the cores the row measures, against 20 ms so.)"""

    bootstrap: str
    topic: str
    partitions: int
    on_record: Callable[[bytes | None, bytes, float], None] | None = None
    framed: bool = False
    on_event: Callable[[dict[str, Any], float], None] | None = None
    count: int = 0
    first_at: float | None = None
    last_at: float | None = None
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _consumer: AIOKafkaConsumer | None = field(default=None, init=False)

    async def start(self) -> OutputWatcher:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=20,
        )
        await self._consumer.start()
        tps = [TopicPartition(self.topic, p) for p in range(self.partitions)]
        self._consumer.assign(tps)
        await self._consumer.seek_to_beginning(*tps)
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=100, max_records=10_000)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    if self.first_at is None:
                        self.first_at = now
                    self.last_at = now
                    if not self.framed:
                        self.count += 1
                        if self.on_record is not None:
                            self.on_record(record.key, record.value, now)
                        continue
                    events = orjson.loads(record.value)["events"]
                    self.count += len(events)
                    if self.on_event is not None:
                        for event in events:
                            self.on_event(event, now)

    async def wait_for(self, count: int, timeout_s: float, alive: Callable[[], bool]) -> None:
        deadline = time.monotonic() + timeout_s
        while self.count < count:
            if self._task is not None and self._task.done():
                self._task.result()
            if not alive():
                raise RuntimeError(f"the process feeding {self.topic} exited (see its log)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.topic}: {self.count} of {count} after {timeout_s:.0f}s")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()


async def topic_size(bootstrap: str, topic: str, partitions: int) -> int:
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    return sum((await true_end_offsets(bootstrap, tps)).values())


@dataclass
class ChildProcess:
    """A python child in its own session, its output in a log, stopped by its PID."""

    args: list[str]
    log_path: Path
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> ChildProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *self.args],
                env=self.env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 20.0) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def peak_rss_mb(pid: int) -> float | None:
    """The high-water mark of a live process's resident memory (Linux /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def rate(events: int, started: float, finished: float | None) -> float:
    if finished is None or finished <= started:
        return 0.0
    return events / (finished - started)
