"""Gather what the audit needs: every message of the raw, loss-event, delta and dead-letter
topics (from the beginning to the true end) and the ids the warehouse holds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from attrition.audit.ledger import AuditInput, RawMessage, WarehouseView, warehouse_view
from attrition.broker.topic_reader import read_records
from attrition.contracts.batches import decode_delta_batch, decode_loss_batch, decode_single
from attrition.contracts.events import DeadLetter
from attrition.settings import Settings
from attrition.sinks.warehouse import open_warehouse

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
Record = tuple[bytes | None, bytes]


@dataclass(frozen=True)
class Collected:
    data: AuditInput
    undecodable: dict[str, int]
    """Messages per topic that are not the event the topic promises (skipped, and said so)."""


async def read_whole_topic(
    settings: Settings, topic: str, *, stall_timeout_s: float = 30.0
) -> list[Record]:
    """Every message of a topic with a value, from the beginning to its true end (see
    broker/topic_reader.read_records); [] if it does not exist."""
    records = await read_records(settings, topic, stall_timeout_s=stall_timeout_s)
    return [(r.key, r.value) for r in records if r.value is not None]


def _decode(
    decode: Callable[[bytes], list[M]], records: list[Record], skipped: dict[str, int], topic: str
) -> list[M]:
    """Every event of a topic's messages; `skipped` counts the messages that did not decode."""
    decoded: list[M] = []
    for _, value in records:
        try:
            decoded.extend(decode(value))
        except ValidationError:
            skipped[topic] = skipped.get(topic, 0) + 1
    return decoded


async def read_warehouse(url: str) -> WarehouseView:
    async with open_warehouse(url) as warehouse:
        losses: list[dict[str, Any]] = await warehouse.dump("loss_events")
        letters: list[dict[str, Any]] = await warehouse.dump("dead_letters")
        return warehouse_view(
            (row["event_id"] for row in losses),
            await warehouse.delta_ids(current_only=False),
            await warehouse.delta_ids(current_only=True),
            (row["dead_letter_id"] for row in letters),
        )


async def collect(settings: Settings, warehouse_url: str | None = None) -> Collected:
    topics = settings.topics
    raw_topics = [topics.raw_reports, topics.raw_articles]
    names = [*raw_topics, topics.loss_events, topics.deltas, topics.dead_letters]
    read = await asyncio.gather(*(read_whole_topic(settings, name) for name in names))
    by_topic = dict(zip(names, read, strict=True))
    skipped: dict[str, int] = {}
    raw = [
        RawMessage.of(topic, key, value) for topic in raw_topics for key, value in by_topic[topic]
    ]
    data = AuditInput(
        raw=raw,
        loss_events=_decode(
            decode_loss_batch, by_topic[topics.loss_events], skipped, topics.loss_events
        ),
        dead_letters=_decode(
            decode_single(DeadLetter), by_topic[topics.dead_letters], skipped, topics.dead_letters
        ),
        deltas=_decode(decode_delta_batch, by_topic[topics.deltas], skipped, topics.deltas),
        warehouse=await read_warehouse(warehouse_url or settings.warehouse),
    )
    return Collected(data, skipped)
