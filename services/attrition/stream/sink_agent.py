"""Sink stage wiring: loss events, deltas, alerts and dead letters into the warehouse, in batches.

Writes are idempotent upserts on the event ids, so the at-least-once redelivery after a crash
changes no row; a batch is acked only once its write has returned (stream/batches.py). One
Warehouse per worker; a lock keeps its writes one at a time (DuckDB allows a single writer)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from attrition.contracts.batches import decode_delta_batch, decode_loss_batch, decode_single
from attrition.contracts.events import AlertEvent, DeadLetter
from attrition.sinks.warehouse import Warehouse, WriteBatch, open_warehouse
from attrition.stream.batches import hold, release

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)


class WarehouseWriter:
    """Opens the warehouse lazily inside the worker's loop and writes one transaction at a time.

    Batches that arrive while a write is running are merged into the next one (a group commit):
    the four sink agents then share one connection and transaction instead of one each, which
    is what a DuckDB write costs most (it connects per write). Each caller still returns only
    once its own events are written, so none acks an event before its row exists."""

    def __init__(self, url: str, hold_seconds: float = 0.0) -> None:
        self.url = url
        self.hold_seconds = hold_seconds
        self._warehouse: Warehouse | None = None
        self._lock = asyncio.Lock()
        self._pending: list[tuple[WriteBatch, asyncio.Future[None]]] = []

    async def write(self, batch: WriteBatch) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((batch, done))
        async with self._lock:
            if self._pending:
                waiting, self._pending = self._pending, []
                try:
                    if self._warehouse is None:
                        self._warehouse = open_warehouse(self.url, hold_seconds=self.hold_seconds)
                        await self._warehouse.open()
                    await self._warehouse.write(_merged([b for b, _ in waiting]))
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

    async def close(self) -> None:
        async with self._lock:
            if self._warehouse is not None:
                await self._warehouse.close()
                self._warehouse = None


def _merged(batches: list[WriteBatch]) -> WriteBatch:
    """One batch of several, each list in arrival order (a later delta may replace an earlier)."""
    if len(batches) == 1:
        return batches[0]
    return WriteBatch(
        loss_events=[e for b in batches for e in b.loss_events],
        deltas=[e for b in batches for e in b.deltas],
        alerts=[e for b in batches for e in b.alerts],
        dead_letters=[e for b in batches for e in b.dead_letters],
    )


def _decode_all(decode: Callable[[Any], list[Any]], messages: list[Any], what: str) -> list[Any]:
    """Every event of a batch of Faust messages; one that does not decode is logged, skipped."""
    decoded: list[Any] = []
    for message in messages:
        try:
            decoded.extend(decode(message))
        except ValidationError as exc:
            log.error("undecodable %s skipped by the sink: %s", what, exc)
    return decoded


def register(app: AttritionApp) -> None:
    topics = app.topics_
    settings = app.settings
    writer = WarehouseWriter(settings.warehouse, settings.warehouse_hold_seconds)
    app.warehouse_writer = writer  # type: ignore[attr-defined]

    metrics = app.metrics  # type: ignore[attr-defined]

    def sink(
        channel: Any,
        decode: Callable[[bytes], list[Any]],
        to_batch: Callable[[list[Any]], WriteBatch],
        name: str,
    ) -> None:
        topic_name = channel.get_topic_name()

        @app.agent(channel, name=name)
        async def write_batches(stream: Any) -> None:
            async for batch in stream.take_events(
                settings.sink_batch_size, within=settings.sink_batch_seconds
            ):
                # Held until the write returns: a failed write must not be acked.
                hold(batch)
                events = _decode_all(
                    lambda m: app.decoder.events(m, decode), [e.message for e in batch], name
                )
                metrics.events_in.labels(topic_name).inc(len(events))
                if events:
                    await writer.write(to_batch(events))
                release(batch)

    sink(
        topics.loss_events,
        decode_loss_batch,
        lambda e: WriteBatch(loss_events=e),
        "attrition.sink.loss-events",
    )
    sink(topics.deltas, decode_delta_batch, lambda e: WriteBatch(deltas=e), "attrition.sink.deltas")
    sink(
        topics.alerts,
        decode_single(AlertEvent),
        lambda e: WriteBatch(alerts=e),
        "attrition.sink.alerts",
    )
    sink(
        topics.dead_letters,
        decode_single(DeadLetter),
        lambda e: WriteBatch(dead_letters=e),
        "attrition.sink.dead-letters",
    )

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def flush_warehouse(app: Any, **kwargs: Any) -> None:
        await writer.close()
