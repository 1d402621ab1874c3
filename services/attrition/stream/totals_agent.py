"""Totals stage wiring: loss events in (keyed claimant/subject/category), deltas out, each topic
framed as one partition's events per message (contracts/batches.py).

The table holds one TotalsLedger per key. The loss-events topic is keyed the same way and has
the table's partition count, so each worker owns the ledgers of the partitions it consumes and
no repartitioning hop is needed.

Events are taken in batches: a key's ledger is decoded once and fed every event of the key in
the batch in arrival order; the batch's deltas leave at once, one message per partition. The
ledger goes back to the table, and the key's current totals to their compacted topic, once per
flush (stream/deferred_writes.py: every `totals_flush_seconds` under load, or as soon as the
input stops), and a message is acked only once the ledger holding its figures is in the
table."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from attrition.broker.table_entries import LEDGER_TABLE
from attrition.contracts.batches import DeltaBatch, decode_loss_batch, encode_delta_batch
from attrition.contracts.events import CurrentTotal, DeltaEvent, LossEvent
from attrition.contracts.vocabulary import DocumentKind
from attrition.contracts.wire import encode, headers_for
from attrition.stream.batches import unpack_by_key
from attrition.stream.dead_letters import refuse
from attrition.stream.deferred_writes import DeferredWrites
from attrition.stream.fatal import stop_on_failure
from attrition.stream.partition_sends import send_by_partition
from attrition.stream.state_table import StateUnreadable, state_table
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
    ledgers = state_table(app, LEDGER_TABLE)
    app.totals_table = ledgers  # type: ignore[attr-defined]
    deltas_topic = names.deltas
    decoded: dict[bytes, tuple[bytes, TotalsLedger]] = {}
    totals_topic = names.current_totals
    partitions = app.partition_counts

    # Ledgers ahead of the table (changed since the last flush), and the source kinds whose
    # current total moved in each: written, and their current totals sent, at the flush.
    live: dict[bytes, TotalsLedger] = {}
    moved: dict[bytes, dict[DocumentKind, None]] = {}

    def ledger_of(key: bytes, last: Any) -> TotalsLedger | None:
        """`last`: a message of the key (the table reads the store of its partition)."""
        if key in live:
            return live[key]
        state = ledgers.get_for(key, last)
        # The ledger decoded last time is reused while the table still holds the very bytes
        # written from it (identity, not equality: recovery or a rebalance puts new objects
        # there).
        cached = decoded.pop(key, None)
        if cached is not None and state is not None and cached[0] is state:
            return cached[1]
        if not state:
            return None
        try:
            return TotalsLedger.from_bytes(state)
        except Exception as exc:
            raise StateUnreadable(ledgers.name, key, exc) from exc

    def apply_key(key: bytes, losses: list[LossEvent], last: Any) -> list[DeltaEvent]:
        """Feed one key's events of a batch to its ledger; the deltas that came of them.
        `last` is the key's last message of the batch."""
        ledger = ledger_of(key, last)
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
            return deltas
        # Back to the table even when no delta came of it: a figure that moves no total (a
        # second source agreeing with the first) is still state the next figures are judged by.
        live[key] = ledger
        moved.setdefault(key, {}).update(kinds)
        writes.changed(key, last)
        return deltas

    async def write_ledger(key: bytes, last: Any) -> None:
        ledger = live.pop(key)
        written = ledger.to_bytes()
        ledgers.set_for(key, written, last)
        decoded[key] = (written, ledger)
        # The topic is compacted: the latest total per key and kind is all it keeps, so it is
        # sent once per key and kind per flush, with the ledger it comes from.
        for kind in moved.pop(key, {}):
            latest = ledger.current(kind)
            if latest is not None:
                await app.producer.send(
                    totals_topic,
                    f"{key.decode()}/{kind.value}".encode(),
                    current_total_record(latest),
                    None,
                    None,
                    _TOTAL_HEADERS,
                )

    def forget_live() -> None:
        live.clear()
        moved.clear()
        decoded.clear()

    writes = DeferredWrites(
        write_ledger,
        flush_every=app.settings.totals_flush_seconds,
        # No batch for this long: the input has stopped for now.
        quiet_after=2 * batch_seconds,
        on_forget=forget_live,
        sent=ledgers.take_sent,
        on_quiet_release=app.prompt_commits.request,
    )
    writes.register(app, "totals")

    @app.agent(topics.loss_events, name="attrition.totals")
    async def keep_totals(stream: Any) -> None:
        def decode(message: Any) -> list[LossEvent]:
            return app.decoder.events(message, decode_loss_batch)

        # The deltas topic is declared by the agents that read it.
        async with stop_on_failure(app, "attrition.totals", writes.unacked):
            async for batch in stream.take_events(batch_size, within=batch_seconds):
                async with writes.batch(batch):
                    by_key, received, refused = unpack_by_key(
                        batch, decode, "loss-event batch", partitions
                    )
                    await refuse(app, refused)
                    metrics.events_in.labels(names.loss_events).inc(received)
                    deltas: list[DeltaEvent] = []
                    for key, (losses, last) in by_key.items():
                        deltas.extend(apply_key(key, losses, last))
                    if deltas:
                        await send_by_partition(
                            app, deltas_topic, deltas, encode_delta_batch, _DELTA_HEADERS
                        )
                        metrics.events_out.labels(names.deltas).inc(len(deltas))
