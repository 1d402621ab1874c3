"""Sink stage wiring: loss events, deltas, alerts and dead letters into the warehouse, in batches.

Writes are idempotent upserts on the event ids, so the at-least-once redelivery after a crash
changes no row; a batch is acked only once its write has returned (stream/batches.py). One
writer per worker (sinks/warehouse_writer.py) keeps the writes one at a time (DuckDB allows a
single writer) and retries them through a warehouse outage; when its retries run out, the
worker stops, and the batch is redelivered to the next one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from attrition.contracts.batches import decode_delta_batch, decode_loss_batch, decode_single
from attrition.contracts.events import AlertEvent, DeadLetter
from attrition.parse.document_parser import validation_summary
from attrition.sinks.warehouse import WriteBatch
from attrition.sinks.warehouse_writer import WarehouseUnavailable, WarehouseWriter
from attrition.stream.batches import abandon, hold, release, unpack_by_key
from attrition.stream.dead_letters import refuse
from attrition.stream.fatal import stop_on_failure
from attrition.stream.key_partitions import PartitionCount
from attrition.stream.quiet_take import take_until_quiet

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)


def _decode_all(
    decode: Callable[[Any], list[Any]],
    batch: Sequence[Any],
    what: str,
    keyed: bool,
    partitions: PartitionCount,
) -> tuple[list[Any], list[bytes], list[tuple[Any, str]]]:
    """Every event of a batch, the framed messages that hold exactly those events (on the
    keyed topics; sinks/frame_rows.py), and the messages that gave none, each with why. On the
    loss-events and deltas topics (`keyed`), a message that does not decode or holds events of
    another partition's keys is skipped and not returned: the totals and alert stages refuse
    those too and record them as dead letters, so the warehouse never holds events the totals
    were not computed from. Only the sinks read the alerts and dead-letters topics: a message
    there that does not decode is theirs to record."""
    if keyed:
        by_key, _, skipped = unpack_by_key(batch, decode, what, partitions)
        left_out = {id(event) for event, _ in skipped}
        frames = [_bytes(e.message.value) for e in batch if id(e) not in left_out]
        return [event for events, _ in by_key.values() for event in events], frames, []
    decoded: list[Any] = []
    refused: list[tuple[Any, str]] = []
    for event in batch:
        try:
            decoded.extend(decode(event.message))
        except ValidationError as exc:
            log.error("undecodable %s refused by the sink: %s", what, exc)
            refused.append((event, f"not a valid {what}: {validation_summary(exc)}"))
    return decoded, [], refused


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else bytes(value)


def register(app: AttritionApp) -> None:
    topics = app.topics_
    settings = app.settings
    metrics = app.metrics  # type: ignore[attr-defined]
    writer = WarehouseWriter(
        settings.warehouse,
        settings.warehouse_hold_seconds,
        retry_seconds=settings.warehouse_retry_seconds,
        on_failure=lambda exc: metrics.warehouse_write_failures.inc(),
        stopping=lambda: bool(app.should_stop),
    )
    app.warehouse_writer = writer  # type: ignore[attr-defined]

    def sink(
        channel: Any,
        decode: Callable[[bytes], list[Any]],
        to_batch: Callable[[list[Any], list[bytes]], WriteBatch],
        name: str,
        what: str,
        keyed: bool = False,
    ) -> None:
        topic_name = channel.get_topic_name()

        @app.agent(channel, name=name)
        async def write_batches(stream: Any) -> None:
            batch: Sequence[Any] = ()
            async with stop_on_failure(app, name, lambda: batch):
                async for batch in take_until_quiet(
                    stream,
                    settings.sink_batch_size,
                    settings.sink_batch_seconds,
                    settings.sink_quiet_seconds,
                    on_drained=app.prompt_commits.request,
                ):
                    await write_batch(batch)

        async def write_batch(batch: Sequence[Any]) -> None:
            """Write the batch and ack it; give it up when the worker is stopping. A write
            whose retries ran out raises WarehouseUnavailable: the worker stops on it
            (fatal.stop_on_failure), the batch left to the next one."""
            # Held until the write returns: a failed write must not be acked.
            hold(batch)
            events, frames, refused = _decode_all(
                lambda m: app.decoder.events(m, decode), batch, what, keyed, app.partition_counts
            )
            # Sent before the ack: Faust flushes the producer before it commits the offsets.
            await refuse(app, refused)
            metrics.events_in.labels(topic_name).inc(len(events))
            if events:
                try:
                    await writer.write(to_batch(events, frames))
                except WarehouseUnavailable:
                    if not writer.closing:
                        raise
                    # The worker is stopping anyway: never acked, the next worker writes it.
                    # The loop goes on taking batches, each tried once and given up: the stop
                    # waits for every message delivered to this stage, those still in its
                    # buffer too, so returning here held the stop until the worker was killed.
                    abandon(batch, app.consumer)
                    return
            release(batch)

    sink(
        topics.loss_events,
        decode_loss_batch,
        lambda e, f: WriteBatch(loss_events=e, loss_event_frames=f),
        "attrition.sink.loss-events",
        "loss-event batch",
        keyed=True,
    )
    sink(
        topics.deltas,
        decode_delta_batch,
        lambda e, f: WriteBatch(deltas=e, delta_frames=f),
        "attrition.sink.deltas",
        "delta batch",
        keyed=True,
    )
    sink(
        topics.alerts,
        decode_single(AlertEvent),
        lambda e, f: WriteBatch(alerts=e),
        "attrition.sink.alerts",
        "alert",
    )
    sink(
        topics.dead_letters,
        decode_single(DeadLetter),
        lambda e, f: WriteBatch(dead_letters=e),
        "attrition.sink.dead-letters",
        "dead letter",
    )

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def flush_warehouse(app: Any, **kwargs: Any) -> None:
        await writer.close()
