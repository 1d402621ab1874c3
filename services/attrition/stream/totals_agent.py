"""Totals stage wiring: loss events in (keyed claimant/subject/category), deltas out, each topic
framed as one key's events per message (contracts/batches.py).

The table holds one TotalsLedger per key. The loss-events topic is keyed the same way and has
the table's partition count, so each worker owns the ledgers of the partitions it consumes and
no repartitioning hop is needed.

Events are taken in batches: a key's ledger is decoded once and fed every event of the key in
the batch in arrival order; its deltas leave at once. The ledger goes back to the table at most
every `totals_flush_seconds` under load, or as soon as the input stops (one changelog record
per key per flush, not one per event or per batch: the ledger is the key's whole history, about
100 KB), and a message is acked only once
the ledger holding its figures is in the table, so a crash before the flush redelivers it."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from attrition.contracts.batches import DeltaBatch, decode_loss_batch, encode_delta_batch, payloads
from attrition.contracts.events import CurrentTotal, DeltaEvent, LossEvent
from attrition.contracts.vocabulary import DocumentKind
from attrition.contracts.wire import encode, headers_for
from attrition.stream.batches import as_current, hold, release, unpack_by_key
from attrition.totals.totals_ledger import TotalsLedger

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)

_DELTA_HEADERS = headers_for(DeltaBatch)
_TOTAL_HEADERS = headers_for(CurrentTotal)


def current_total_record(delta: DeltaEvent) -> bytes:
    """The compacted current-totals topic's value: the latest total of a key."""
    return encode(CurrentTotal.of(delta))


def register(app: AttritionApp) -> None:
    topics = app.topics_
    metrics = app.metrics  # type: ignore[attr-defined]
    names = app.settings.topics
    batch_size = app.settings.stream_batch_size
    batch_seconds = app.settings.stream_batch_seconds
    ledgers = app.Table(
        "totals-ledger",
        default=None,
        partitions=app.settings.topics.partitions,
        key_type=bytes,  # bytes: the raw serializer; the pure core owns the state encoding
        value_type=bytes,
    )
    app.totals_table = ledgers  # type: ignore[attr-defined]
    deltas_topic = names.deltas
    decoded: dict[bytes, tuple[bytes, TotalsLedger]] = {}
    totals_topic = names.current_totals
    max_events = app.settings.wire_batch_max_events

    # Ledgers changed since the last flush, with the key's last message (the table write's
    # partition), and the messages whose effects they hold: acked only once flushed.
    pending: dict[bytes, tuple[TotalsLedger, Any]] = {}
    held: list[Any] = []
    lock = asyncio.Lock()
    flush_every = app.settings.totals_flush_seconds
    quiet_after = 2 * batch_seconds  # no batch for this long: the input has stopped for now
    last_flush = last_batch = time.monotonic()

    def ledger_of(key: bytes) -> TotalsLedger | None:
        if key in pending:
            return pending[key][0]
        state = ledgers.get(key)
        # The ledger decoded last time is reused while the table still holds the very bytes
        # written from it (identity, not equality: recovery or a rebalance puts new objects
        # there).
        cached = decoded.pop(key, None)
        if cached is not None and state is not None and cached[0] is state:
            return cached[1]
        return TotalsLedger.from_bytes(state) if state else None

    async def apply_key(produce: Any, key: bytes, losses: list[LossEvent], last: Any) -> int:
        """Feed one key's events of a batch to its ledger; send what changed. `last` is the
        key's last message of the batch. Returns the number of deltas sent."""
        ledger = ledger_of(key)
        deltas: list[DeltaEvent] = []
        kinds: dict[DocumentKind, None] = {}  # the source kinds whose current total moved
        for loss in losses:
            if ledger is None:
                ledger = TotalsLedger.for_event(loss)
            changed = ledger.apply(loss)
            if changed:  # else a duplicate, or a figure that moves no total
                deltas.extend(changed)
                kinds[loss.source_kind] = None
        if ledger is None:
            return 0
        # Back to the table even when no delta came of it: a figure that moves no total (a
        # second source agreeing with the first) is still state the next figures are judged by.
        pending[key] = (ledger, last)
        # Awaiting `send` waits for room in the producer's buffer, not for delivery: Faust
        # flushes the producer before it commits, and it commits only flushed messages.
        for payload in payloads(deltas, encode_delta_batch, max_events):
            await produce(deltas_topic, key, payload, None, None, _DELTA_HEADERS)
        # The topic is compacted: the latest total per key and kind is all it keeps.
        for kind in kinds:
            latest = ledger.current(kind)
            if latest is not None:
                await produce(
                    totals_topic,
                    f"{key.decode()}/{kind.value}".encode(),
                    current_total_record(latest),
                    None,
                    None,
                    _TOTAL_HEADERS,
                )
        return len(deltas)

    def flush() -> None:
        """Write each changed ledger to the table (one changelog record per key per flush, as
        Quix writes one per key per checkpoint), then ack the messages they hold."""
        nonlocal last_flush
        last_flush = time.monotonic()
        for key, (ledger, last) in pending.items():
            as_current(last)
            written = ledger.to_bytes()
            ledgers[key] = written
            decoded[key] = (written, ledger)
        pending.clear()
        flushed = held[:]
        held.clear()
        release(flushed)

    def forget() -> None:
        """After a failure: drop the ledgers ahead of the table and never ack what they hold;
        those messages are redelivered after a restart and replayed onto the table's state."""
        pending.clear()
        decoded.clear()
        held.clear()

    @app.agent(topics.loss_events, name="attrition.totals")
    async def keep_totals(stream: Any) -> None:
        nonlocal last_batch

        def decode(message: Any) -> list[LossEvent]:
            return app.decoder.events(message, decode_loss_batch)

        # The producer itself, not `topic.send`: the same buffered send without building a
        # FutureMessage per event; the deltas topic is declared by the agents that read it.
        produce = app.producer.send
        async for batch in stream.take_events(batch_size, within=batch_seconds):
            hold(batch)
            async with lock:
                try:
                    by_key, received = unpack_by_key(batch, decode, "loss-event batch")
                    metrics.events_in.labels(names.loss_events).inc(received)
                    sent = 0
                    for key, (losses, last) in by_key.items():
                        sent += await apply_key(produce, key, losses, last)
                    if sent:
                        metrics.events_out.labels(names.deltas).inc(sent)
                except BaseException:
                    forget()
                    raise
                held.extend(batch)
                last_batch = time.monotonic()
                if last_batch - last_flush >= flush_every:
                    flush()

    @app.timer(interval=min(quiet_after, flush_every))  # type: ignore[untyped-decorator]
    async def flush_totals() -> None:
        # A stream that has stopped brings no batch to flush on: flush as soon as it is quiet,
        # so its last messages are committed (and `wait_until_idle` returns) without waiting
        # for the next interval, let alone the next message.
        async with lock:
            now = time.monotonic()
            if held and (now - last_batch >= quiet_after or now - last_flush >= flush_every):
                flush()

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def flush_totals_at_shutdown(app: Any, **kwargs: Any) -> None:
        async with lock:
            if held:
                flush()
