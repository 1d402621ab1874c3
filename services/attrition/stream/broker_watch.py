"""Notice a broker that lost its data, say so plainly, and stop the worker.

A memory-only broker (the embedded Tansu) that restarts comes back empty: topics, committed
offsets and the totals changelog are gone, and clients recreate topics from offset 0. A worker
that kept running would hold ledger state the broker no longer backs and would quietly ignore
the replayed documents as duplicates. So the worker watches its input partitions' end offsets;
they only ever grow on a healthy broker, and one going backwards means the log was lost."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, TopicPartition

from attrition.broker.consumer_progress import consumed_topics
from attrition.broker.kafka_security import aiokafka_kwargs
from attrition.stream.fatal import stop_worker

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)

WATCH_INTERVAL_S = 3.0


class BrokerLostData(RuntimeError):
    """The broker's log went backwards: it restarted empty or its data was deleted."""


def register(app: AttritionApp) -> None:
    settings = app.settings
    tps = [
        TopicPartition(topic, p)
        for topic in consumed_topics(settings)
        for p in range(settings.topics.partitions)
    ]
    highest: dict[TopicPartition, int] = {}

    @app.timer(WATCH_INTERVAL_S)  # type: ignore[untyped-decorator]
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
        went_back = [(tp, highest[tp], ends[tp]) for tp in tps if ends[tp] < highest.get(tp, 0)]
        for tp in tps:
            highest[tp] = max(highest.get(tp, 0), ends[tp])
        if not went_back:
            return
        tp, before, now = went_back[0]
        message = (
            f"the broker lost its data: {len(went_back)} partitions went back "
            f"(e.g. {tp.topic}[{tp.partition}] from offset {before} to {now}); topics, "
            "committed offsets and the totals changelog are gone. This worker stops: restart "
            "the workers after the broker, then replay from the producer side "
            "(`attrition publish`)."
        )
        log.critical(message)
        await stop_worker(app, BrokerLostData(message))
