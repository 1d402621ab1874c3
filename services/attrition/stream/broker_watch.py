"""Notice a broker that lost its data, say so plainly, and stop the worker.

A memory-only broker (the embedded Tansu) that restarts comes back empty: topics, committed
offsets and the totals changelog are gone, and clients recreate topics from offset 0. A worker
that kept running would hold ledger state the broker no longer backs and would quietly ignore
the replayed documents as duplicates. So the worker watches its input topics.

- Their ids: a recreated topic gets a new one (broker/topic_ids.py), however many messages its
  new log already holds. The worker takes them before it reads anything (`attrition worker`),
  and every look compares with them.
- Their partitions' end offsets: they only ever grow on a healthy broker, and one going
  backwards means the log was lost. A partition whose log now ends at or before an offset this
  worker has read from it went backwards too.

Only a broker that reports no topic ids (Apache Kafka before 2.8) leaves a new log that has
grown past everything this worker read unnoticed."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.client import AIOKafkaClient
from faust.sensors import Sensor

from attrition.broker.consumer_progress import consumed_topics
from attrition.broker.kafka_security import aiokafka_kwargs
from attrition.broker.tansu_end_offsets import true_end_offsets
from attrition.broker.topic_ids import topic_ids
from attrition.stream.fatal import stop_worker

if TYPE_CHECKING:
    from attrition.settings import Settings
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)


class BrokerLostData(RuntimeError):
    """The broker's log went backwards: it restarted empty or its data was deleted."""


class PartitionsRead(Sensor):
    """The highest offset this worker has received a message at, per partition, since it
    started. Kept across rebalances, unlike the consumer's own positions, which a rebalance
    after a broker restart clears before the watch may have run."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.offsets: dict[tuple[str, int], int] = {}

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        if offset > self.offsets.get(tp, -1):
            self.offsets[tp] = offset


def suspects(
    reported: Mapping[TopicPartition, int], read: Mapping[tuple[str, int], int]
) -> list[TopicPartition]:
    """The partitions whose reported end offset is not past the highest offset read from them.
    On Apache Kafka each of them lost its log. Tansu reports the start of the last batch + 1,
    at or below what was read whenever that batch held two messages or more: its true end
    (from a fetch) has to be asked before judging."""
    return [tp for tp, end in reported.items() if tp in read and end <= read[tp]]


def partitions_gone_back(
    reported: Mapping[TopicPartition, int],
    highest: Mapping[TopicPartition, int],
    read: Mapping[tuple[str, int], int],
    true_ends: Mapping[TopicPartition, int],
) -> list[tuple[TopicPartition, int, int]]:
    """(partition, the end offset it had at least, its end offset now) of every partition whose
    log went back: its reported end offset is below one reported before (`highest`), or its
    true end offset (`true_ends`, asked for the `suspects`) is at or before an offset this
    worker has read from it (`read`). Reported and true ends are never compared with each
    other: on Tansu a later reported end is often below an earlier true one."""
    gone: list[tuple[TopicPartition, int, int]] = []
    for tp, end in reported.items():
        true_end = true_ends.get(tp)
        if end < highest.get(tp, 0):
            gone.append((tp, highest[tp], end))
        elif true_end is not None and tp in read and true_end <= read[tp]:
            gone.append((tp, read[tp] + 1, true_end))
    return gone


def topics_recreated(
    known: Mapping[str, UUID], now: Mapping[str, UUID | None]
) -> list[tuple[str, UUID, UUID | None]]:
    """(topic, its id before, its id now or None if it is gone) of every topic whose id has
    changed since the watch first saw it. A topic missing from `now` (not asked, or answered
    with a passing error) is not judged."""
    return [
        (topic, before, now[topic])
        for topic, before in known.items()
        if topic in now and now[topic] != before
    ]


def lost_data_message(
    recreated: list[tuple[str, UUID, UUID | None]],
    went_back: list[tuple[TopicPartition, int, int]],
) -> str:
    evidence = []
    if recreated:
        topic, before, now = recreated[0]
        became = f"whose id went from {before} to {now}" if now else "gone"
        evidence.append(
            f"{len(recreated)} topics were recreated or are gone (e.g. {topic}, {became})"
        )
    if went_back:
        tp, before_end, now_end = went_back[0]
        evidence.append(
            f"{len(went_back)} partitions went back (e.g. {tp.topic}[{tp.partition}], from an "
            f"end offset of at least {before_end} to {now_end})"
        )
    return (
        f"the broker lost its data: {'; '.join(evidence)}; "
        "topics, committed offsets and the totals changelog are gone. This worker stops: "
        "restart the workers after the broker, then replay from the producer side "
        "(`attrition publish`)."
    )


def register(app: AttritionApp) -> None:
    settings = app.settings
    topics = consumed_topics(settings)
    tps = [TopicPartition(topic, p) for topic in topics for p in range(settings.topics.partitions)]
    highest: dict[TopicPartition, int] = {}
    known_ids: dict[str, UUID] = {}
    read = PartitionsRead()
    app.sensors.add(read)

    @app.timer(settings.broker_watch_seconds)  # type: ignore[untyped-decorator]
    async def watch_broker() -> None:
        # Taken before any end offset is asked: a message read after a fetch found the end
        # may lie past that end on a healthy broker.
        seen = dict(read.offsets)
        probe = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            group_id=None,
            **aiokafka_kwargs(settings.security),
        )
        for topic, topic_id in app.topic_ids_at_start.items():
            known_ids.setdefault(topic, topic_id)
        reported: dict[TopicPartition, int] = {}
        true_ends: dict[TopicPartition, int] = {}
        try:
            await probe.start()
            ids = await topic_ids(probe._client, topics)
            recreated = topics_recreated(known_ids, ids or {})
            # A topic that is gone would hold the end offsets' request up to its timeout.
            if all(now is not None for _, _, now in recreated):
                try:
                    reported, true_ends = await _end_offsets(settings, probe, tps, seen)
                except Exception:
                    if not recreated:
                        raise
        except Exception as exc:  # an unreachable broker is not a lost one; aiokafka retries
            log.debug("broker watch skipped: %s", exc)
            return
        finally:
            await probe.stop()
        went_back = partitions_gone_back(reported, highest, seen, true_ends)
        for tp, end in reported.items():
            highest[tp] = max(highest.get(tp, 0), end)
        for topic, id_now in (ids or {}).items():
            if id_now is not None:
                known_ids.setdefault(topic, id_now)
        if recreated or went_back:
            message = lost_data_message(recreated, went_back)
            log.critical(message)
            await stop_worker(app, BrokerLostData(message))


async def _end_offsets(
    settings: Settings,
    probe: AIOKafkaConsumer,
    tps: list[TopicPartition],
    seen: Mapping[tuple[str, int], int],
) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    """The end offsets the broker reports, and the true ends of the `suspects` among them."""
    # ListOffsets as the broker answers it: on Tansu that is the start of the last batch + 1,
    # short of the true end but never decreasing on a healthy broker.
    reported: dict[TopicPartition, int] = await probe.end_offsets(tps)
    doubtful = suspects(reported, seen)
    true_ends = {tp: reported[tp] for tp in doubtful}  # Apache Kafka's are true
    if doubtful and settings.embedded_broker:
        # A partition the fetch got no answer for in time is judged at the next look.
        true_ends = await true_end_offsets(settings.bootstrap_servers, doubtful, answered_only=True)
    return reported, true_ends


async def input_topic_ids(settings: Settings) -> dict[str, UUID]:
    """The ids of the topics this worker reads, as the broker has them now: taken by the worker
    before it reads anything, so that the watch knows a topic recreated even before its first
    look (broker/topic_ids.py). Empty when the broker reports no ids or cannot be asked."""
    client = AIOKafkaClient(
        bootstrap_servers=settings.bootstrap_servers, **aiokafka_kwargs(settings.security)
    )
    try:
        await client.bootstrap()
        found = await topic_ids(client, consumed_topics(settings))
    except Exception as exc:  # the watch's looks take the ids then
        log.debug("topic ids not taken at start: %s", exc)
        return {}
    finally:
        await client.close()
    return {topic: topic_id for topic, topic_id in (found or {}).items() if topic_id is not None}
