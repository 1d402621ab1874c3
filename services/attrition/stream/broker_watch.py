"""Notice a broker that lost its data, say so plainly, and stop the worker.

A memory-only broker (the embedded Tansu) that restarts comes back empty: topics, committed
offsets and the totals changelog are gone, and clients recreate topics from offset 0. A worker
that kept running would hold ledger state the broker no longer backs and would quietly ignore
the replayed documents as duplicates. So the worker watches its input partitions' end offsets;
they only ever grow on a healthy broker, and one going backwards means the log was lost. A
partition this worker has read a message from and that is now empty went backwards too, even
when the broker restarted before the watch had seen its end offset (a worker whose first
seconds were enough to read its input)."""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.sensors import Sensor

from attrition.broker.consumer_progress import consumed_topics
from attrition.broker.kafka_security import aiokafka_kwargs
from attrition.stream.fatal import stop_worker

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)


class BrokerLostData(RuntimeError):
    """The broker's log went backwards: it restarted empty or its data was deleted."""


class PartitionsRead(Sensor):
    """The partitions this worker has received a message from, since it started. Kept across
    rebalances, unlike the consumer's own offsets, which a rebalance after a broker restart
    clears before the watch may have run."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.partitions: set[tuple[str, int]] = set()

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        self.partitions.add(tp)


def partitions_gone_back(
    ends: Mapping[TopicPartition, int],
    highest: Mapping[TopicPartition, int],
    read: Container[tuple[str, int]],
) -> list[tuple[TopicPartition, int, int]]:
    """(partition, highest end offset seen before, end offset now) of every partition whose log
    went back: its end offset is below one seen before, or it is empty though this worker has
    read a message from it. (An end offset is at least 1 on a partition holding a message, on
    Tansu too: its ListOffsets answer is the start of the last batch + 1.)"""
    return [
        (tp, highest.get(tp, 0), end)
        for tp, end in ends.items()
        if end < highest.get(tp, 0) or (end == 0 and tp in read)
    ]


def register(app: AttritionApp) -> None:
    settings = app.settings
    tps = [
        TopicPartition(topic, p)
        for topic in consumed_topics(settings)
        for p in range(settings.topics.partitions)
    ]
    highest: dict[TopicPartition, int] = {}
    read = PartitionsRead()
    app.sensors.add(read)

    @app.timer(settings.broker_watch_seconds)  # type: ignore[untyped-decorator]
    async def watch_broker() -> None:
        probe = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            group_id=None,
            **aiokafka_kwargs(settings.security),
        )
        try:
            await probe.start()
            # ListOffsets as the broker answers it: on Tansu that is the start of the last
            # batch + 1, short of the true end but still never decreasing on a healthy broker.
            ends = await probe.end_offsets(tps)
        except Exception as exc:  # an unreachable broker is not a lost one; aiokafka retries
            log.debug("broker watch skipped: %s", exc)
            return
        finally:
            await probe.stop()
        went_back = partitions_gone_back(ends, highest, read.partitions)
        for tp in tps:
            highest[tp] = max(highest.get(tp, 0), ends[tp])
        if not went_back:
            return
        tp, before, now = went_back[0]
        message = (
            f"the broker lost its data: {len(went_back)} partitions went back "
            f"(e.g. {tp.topic}[{tp.partition}] from offset {before or 'at least 1'} to {now}); "
            "topics, committed offsets and the totals changelog are gone. This worker stops: "
            "restart the workers after the broker, then replay from the producer side "
            "(`attrition publish`)."
        )
        log.critical(message)
        await stop_worker(app, BrokerLostData(message))
