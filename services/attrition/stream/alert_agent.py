"""Alert stage wiring: deltas in, spike and data-quality alerts out.

The deltas topic is keyed like the loss events (claimant/subject/category), so one table entry
per key holds that series' detector state on the worker that owns the partition. Deltas are
taken in batches: a key's state is loaded once and fed its deltas in arrival order; it goes
back to the table once per flush, and the deltas are acked only after that
(stream/deferred_writes.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson

from attrition.alerts.spike_detector import SpikeDetector
from attrition.broker.table_entries import DETECTOR_TABLE
from attrition.contracts.batches import decode_delta_batch
from attrition.contracts.events import AlertEvent, DeltaEvent
from attrition.contracts.wire import encode, headers_for
from attrition.stream.batches import unpack_by_key
from attrition.stream.dead_letters import refuse
from attrition.stream.deferred_writes import DeferredWrites
from attrition.stream.fatal import stop_on_failure
from attrition.stream.state_table import StateUnreadable, state_table

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)

_ALERT_HEADERS = headers_for(AlertEvent)


def register(app: AttritionApp) -> None:
    topics = app.topics_
    metrics = app.metrics  # type: ignore[attr-defined]
    names = app.settings.topics
    batch_size = app.settings.stream_batch_size
    batch_seconds = app.settings.stream_batch_seconds
    detector = SpikeDetector(app.settings.alerts)
    states = state_table(app, DETECTOR_TABLE)

    # The bytes last written to the table from the detector's live state of each key: while
    # the table still holds those very bytes (identity: recovery or a rebalance puts new
    # objects there), the live state is current and is not decoded again. A key changed since
    # the last flush is ahead of the table, and its live state is the one to use.
    written: dict[bytes, bytes] = {}

    def observe_key(key_bytes: bytes, deltas: list[DeltaEvent], last: Any) -> list[AlertEvent]:
        """`last`: the key's last message of the batch (the table write's partition)."""
        key = key_bytes.decode()
        if not writes.is_changed(key_bytes):
            stored = states.get_for(key_bytes, last)
            # Out of the cache while the state changes: a failure leaves the table's to load.
            if stored is None or written.pop(key_bytes, None) is not stored:
                try:
                    detector.load_key_state(key, orjson.loads(stored) if stored else None)
                except Exception as exc:
                    raise StateUnreadable(states.name, key_bytes, exc) from exc
        alerts: list[AlertEvent] = []
        for delta in deltas:
            alerts.extend(detector.observe(delta))
        writes.changed(key_bytes, last)
        return alerts

    async def write_state(key_bytes: bytes, last: Any) -> None:
        data = orjson.dumps(detector.key_state(key_bytes.decode()))
        states.set_for(key_bytes, data, last)
        written[key_bytes] = data

    # Stored once per key per flush rather than per batch (stream/deferred_writes.py): at a
    # steady 100 documents/s that was some 750 stores of 8 KB a second. After a failure the
    # states ahead of the table are dropped from the cache: the next batch loads the table's.
    writes = DeferredWrites(
        write_state,
        flush_every=app.settings.totals_flush_seconds,
        quiet_after=2 * batch_seconds,
        on_forget=written.clear,
        sent=states.take_sent,
        on_quiet_release=app.prompt_commits.request,
    )
    writes.register(app, "alerts")

    @app.agent(topics.deltas, name="attrition.alerts")
    async def raise_alerts(stream: Any) -> None:
        async with stop_on_failure(app, "attrition.alerts", writes.unacked):
            async for batch in stream.take_events(batch_size, within=batch_seconds):
                async with writes.batch(batch):
                    await alert_batch(batch)

    async def alert_batch(batch: list[Any]) -> None:
        by_key, received, refused = unpack_by_key(
            batch,
            lambda m: app.decoder.events(m, decode_delta_batch),
            "delta batch",
            app.partition_counts,
        )
        await refuse(app, refused)
        metrics.events_in.labels(names.deltas).inc(received)
        for key_bytes, (deltas, last) in by_key.items():
            for alert in observe_key(key_bytes, deltas, last):
                log.info("alert: %s", alert.explanation)
                metrics.alerts.labels(alert.kind.value, alert.severity.value).inc()
                metrics.events_out.labels(names.alerts).inc()
                await topics.alerts.send(key=key_bytes, value=encode(alert), headers=_ALERT_HEADERS)
