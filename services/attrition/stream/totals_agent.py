"""Totals stage wiring: loss events in (keyed claimant/subject/category), deltas out, each topic
framed as one key's events per message (contracts/batches.py).

The table holds one TotalsLedger per key. The loss-events topic is keyed the same way and has
the table's partition count, so each worker owns the ledgers of the partitions it consumes and
no repartitioning hop is needed.

Events are taken in batches: a key's ledger is decoded once, fed every event of the key in the
batch in arrival order, and written back once (one changelog record per key per batch instead
of one per event; the ledger grows by a day per event, so per-event encoding made the stage
quadratic in the history's length)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from attrition.contracts.batches import DeltaBatch, chunks, decode_loss_batch, encode_delta_batch
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

    async def apply_key(produce: Any, key: bytes, losses: list[LossEvent], last: Any) -> int:
        """Feed one key's events of a batch to its ledger; send what changed. `last` is the
        key's last message of the batch (the table write's partition). Returns the number of
        deltas sent."""
        state = ledgers.get(key)
        # The ledger decoded last time is reused while the table still holds the very bytes
        # written from it (identity, not equality: recovery or a rebalance puts new objects
        # there). It leaves the cache while being changed, so a failed batch cannot leave a
        # ledger ahead of the table behind.
        cached = decoded.pop(key, None)
        if cached is not None and state is not None and cached[0] is state:
            ledger: TotalsLedger | None = cached[1]
        else:
            ledger = TotalsLedger.from_bytes(state) if state else None
        deltas: list[DeltaEvent] = []
        kinds: dict[DocumentKind, None] = {}  # the source kinds whose current total moved
        for loss in losses:
            if ledger is None:
                ledger = TotalsLedger.for_event(loss)
            changed = ledger.apply(loss)
            if changed:  # else a duplicate, or a figure that moves no total
                deltas.extend(changed)
                kinds[loss.source_kind] = None
        if ledger is None or not deltas:
            return 0  # nothing written: the next batch decodes the table's bytes again
        as_current(last)
        written = ledger.to_bytes()
        ledgers[key] = written
        decoded[key] = (written, ledger)
        # Awaiting `send` waits for room in the producer's buffer, not for delivery: the
        # commit that follows the batch flushes the producer first.
        for part in chunks(deltas, max_events):
            await produce(deltas_topic, key, encode_delta_batch(part), None, None, _DELTA_HEADERS)
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

    @app.agent(topics.loss_events, name="attrition.totals")
    async def keep_totals(stream: Any) -> None:
        # The producer itself, not `topic.send`: the same buffered send without building a
        # FutureMessage per event; the deltas topic is declared by the agents that read it.
        produce = app.producer.send
        async for batch in stream.take_events(batch_size, within=batch_seconds):
            hold(batch)
            by_key, received = unpack_by_key(batch, decode_loss_batch, "loss-event batch")
            metrics.events_in.labels(names.loss_events).inc(received)
            sent = 0
            for key, (losses, last) in by_key.items():
                sent += await apply_key(produce, key, losses, last)
            if sent:
                metrics.events_out.labels(names.deltas).inc(sent)
            release(batch)
