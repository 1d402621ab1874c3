"""The sink stage's one writer into the warehouse: group commits, and retries through outages.
(No Faust here: the sink agents, stream/sink_agent.py, call it and ack what it wrote.)

A failed write is tried again after a pause that doubles from `FIRST_RETRY_SECONDS` to
`MAX_RETRY_SECONDS`, for as long as the next attempt comes within `retry_seconds` of the first
failure; the sinks wait for it, their messages unacked. Without the retries an outage lost the
batch until the worker restarted: the write's error crashed the agent, Faust's supervisor
restarted it on the messages after that batch, and the batch was never written nor acked, its
partitions' commits stuck behind it. When the retries run out, `WarehouseUnavailable` says so
and the sink stops the worker; when the worker is stopping anyway, the write gives up at once.
Either way the batch stays unacked, and the next worker writes it (the upserts are
idempotent)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence

from attrition.sinks.warehouse import Warehouse, WriteBatch, open_warehouse

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.2
MAX_RETRY_SECONDS = 10.0


class WarehouseUnavailable(RuntimeError):
    """A write kept failing for longer than the retries allow (or the writer closed meanwhile)."""


def retry_delays(
    first: float = FIRST_RETRY_SECONDS, most: float = MAX_RETRY_SECONDS
) -> Iterator[float]:
    """The pauses between attempts: doubling from `first`, then `most` for ever."""
    delay = first
    while True:
        yield min(delay, most)
        delay *= 2


class WarehouseWriter:
    """Opens the warehouse lazily inside the worker's loop and writes one transaction at a time.

    Batches that arrive while a write is running are merged into the next one (a group commit):
    the four sink agents then share one connection and transaction instead of one each, which
    is what a DuckDB write costs most (it connects per write). Each caller still returns only
    once its own events are written, so none acks an event before its row exists.

    `on_failure` is told of every failed attempt (the worker counts them in its metrics)."""

    def __init__(
        self,
        url: str,
        hold_seconds: float = 0.0,
        *,
        retry_seconds: float = 300.0,
        on_failure: Callable[[Exception], None] = lambda exc: None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.url = url
        self.hold_seconds = hold_seconds
        self.retry_seconds = retry_seconds
        self.on_failure = on_failure
        self._stopping = stopping
        self._warehouse: Warehouse | None = None
        self._lock = asyncio.Lock()
        self._pending: list[tuple[WriteBatch, asyncio.Future[None]]] = []
        self._closing = asyncio.Event()

    @property
    def closing(self) -> bool:
        """Closed, or its worker stopping: a failed write is not tried again."""
        return self._closing.is_set() or self._stopping()

    async def write(self, batch: WriteBatch) -> None:
        """Return once `batch` is written; raise WarehouseUnavailable if it could not be."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((batch, done))
        async with self._lock:
            if self._pending:
                waiting, self._pending = self._pending, []
                try:
                    await self._write_retrying(_merged([b for b, _ in waiting]))
                except BaseException as exc:
                    for _, future in waiting:
                        if not future.done():
                            future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                else:
                    for _, future in waiting:
                        future.set_result(None)
        await done

    async def _write_retrying(self, batch: WriteBatch) -> None:
        failures = 0
        give_up_at = 0.0
        for delay in retry_delays():
            try:
                await self._write_once(batch)
            except Exception as exc:
                failures += 1
                self.on_failure(exc)
                now = time.monotonic()
                if failures == 1:
                    give_up_at = now + self.retry_seconds
                if now + delay > give_up_at:
                    raise self._unavailable(failures, "no retry left", exc) from exc
                if not self.closing:
                    log.warning(
                        "warehouse write failed (attempt %d), retrying in %.1f s: %r",
                        failures,
                        delay,
                        exc,
                    )
                    await self._pause(delay)
                if self.closing:
                    raise self._unavailable(failures, "the writer is closing", exc) from exc
            else:
                if failures:
                    log.warning("warehouse write succeeded after %d failed attempts", failures)
                return

    @staticmethod
    def _unavailable(failures: int, reason: str, last: Exception) -> WarehouseUnavailable:
        return WarehouseUnavailable(f"warehouse write failed {failures} times ({reason}): {last!r}")

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake within a quarter second of the writer closing or its worker
        stopping (a stop waits for the sinks' batches: their agents then abandon them)."""
        deadline = time.monotonic() + seconds
        while not self.closing and (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), min(left, 0.25))

    async def _write_once(self, batch: WriteBatch) -> None:
        if self._warehouse is None:
            warehouse = open_warehouse(self.url, hold_seconds=self.hold_seconds)
            try:
                await warehouse.open()
            except BaseException:
                with contextlib.suppress(Exception):
                    await warehouse.close()
                raise
            self._warehouse = warehouse
        await self._warehouse.write(batch)

    async def close(self) -> None:
        """Close the warehouse; a write still retrying gives up at once (its batch stays
        unacked, for the next worker)."""
        self._closing.set()
        async with self._lock:
            if self._warehouse is not None:
                warehouse, self._warehouse = self._warehouse, None
                await warehouse.close()


def _merged(batches: list[WriteBatch]) -> WriteBatch:
    """One batch of several, each list in arrival order (a later delta may replace an earlier)."""
    if len(batches) == 1:
        return batches[0]
    return WriteBatch(
        loss_events=[e for b in batches for e in b.loss_events],
        deltas=[e for b in batches for e in b.deltas],
        alerts=[e for b in batches for e in b.alerts],
        dead_letters=[e for b in batches for e in b.dead_letters],
        # The frames hold the merged events only if every part that has events came with its.
        loss_event_frames=_all_frames([(b.loss_events, b.loss_event_frames) for b in batches]),
        delta_frames=_all_frames([(b.deltas, b.delta_frames) for b in batches]),
    )


def _all_frames(parts: list[tuple[Sequence[object], Sequence[bytes]]]) -> list[bytes]:
    if any(events and not frames for events, frames in parts):
        return []
    return [frame for _, frames in parts for frame in frames]
