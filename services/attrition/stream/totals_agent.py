"""Totals stage wiring: loss events in (keyed claimant/subject/category), deltas out.

The table holds one TotalsLedger per key. The loss-events topic is keyed the same way and has
the table's partition count, so each worker owns the ledgers of the partitions it consumes and
no repartitioning hop is needed."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from attrition.contracts.events import DeltaEvent, LossEvent
from attrition.contracts.wire import encode, headers_for
from attrition.totals.totals_ledger import TotalsLedger

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)

_DELTA_HEADERS = headers_for(DeltaEvent)


def current_total_record(delta: DeltaEvent) -> bytes:
    """The compacted current-totals topic's value: the latest total of a key."""
    return orjson.dumps(
        {
            "claimant": delta.claimant.value,
            "subject": delta.subject.value,
            "category": delta.category.value,
            "source_kind": delta.source_kind.value,
            "total": delta.total,
            "as_of": delta.as_of.isoformat(),
            "delta_id": delta.delta_id,
        }
    )


def register(app: AttritionApp) -> None:
    topics = app.topics_
    metrics = app.metrics  # type: ignore[attr-defined]
    names = app.settings.topics
    ledgers = app.Table(
        "totals-ledger",
        default=None,
        partitions=app.settings.topics.partitions,
        key_type=bytes,  # bytes: the raw serializer; the pure core owns the state encoding
        value_type=bytes,
    )
    app.totals_table = ledgers  # type: ignore[attr-defined]

    @app.agent(topics.loss_events, name="attrition.totals")
    async def keep_totals(stream: Any) -> None:
        async for event in stream.events():
            metrics.events_in.labels(names.loss_events).inc()
            key: bytes = event.message.key
            try:
                loss = LossEvent.model_validate_json(event.message.value)
            except ValidationError as exc:
                log.error("undecodable loss event on key %r skipped: %s", key, exc)
                continue
            state = ledgers.get(key)
            ledger = TotalsLedger.from_bytes(state) if state else TotalsLedger.for_event(loss)
            deltas = ledger.apply(loss)
            if not deltas:
                continue  # a duplicate, or a figure that moves no total
            ledgers[key] = ledger.to_bytes()
            metrics.events_out.labels(names.deltas).inc(len(deltas))
            for delta in deltas:
                await topics.deltas.send(key=key, value=encode(delta), headers=_DELTA_HEADERS)
            latest = ledger.current(loss.source_kind)
            if latest is not None:
                await topics.current_totals.send(
                    key=f"{key.decode()}/{latest.source_kind.value}".encode(),
                    value=current_total_record(latest),
                )
