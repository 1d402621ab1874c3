"""The Faust app: configuration from Settings, then every topic, table and agent registered.

`create_app(settings)` builds a fresh app (tests make several); `attrition worker` runs one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from uuid import UUID

import faust
from faust.types import TP

from attrition.broker.kafka_security import faust_credentials
from attrition.settings import Settings
from attrition.stream import seek_before_fetch
from attrition.stream.fatal import STOP_GRACE_SECONDS, give_up_in_flight_after
from attrition.stream.key_partitions import PartitionCount, key_partition, partition_counts
from attrition.stream.log_format import logging_config
from attrition.stream.prompt_commits import PromptCommits
from attrition.stream.shared_decode import SharedDecoder, readers_per_topic
from attrition.stream.topics import Topics


class AttritionApp(faust.App):
    """faust.App that carries attrition's settings and topics for the agents to share."""

    settings: Settings
    topics_: Topics
    decoder: SharedDecoder
    partition_counts: PartitionCount
    #: The ids of the topics the worker reads, taken before it read anything (`attrition
    #: worker` sets them): what the broker watch compares its looks with from the first.
    topic_ids_at_start: Mapping[str, UUID] = MappingProxyType({})
    prompt_commits: PromptCommits

    async def on_stop(self) -> None:
        # A graceful stop waits for the messages in flight at most STOP_GRACE_SECONDS.
        consumer = self._consumer  # not `self.consumer`, which would make one
        bound = None
        if consumer is not None:
            bound = asyncio.ensure_future(give_up_in_flight_after(consumer, STOP_GRACE_SECONDS))
        try:
            await super().on_stop()
        finally:
            if bound is not None:
                bound.cancel()


def _reads_here(app: AttritionApp) -> Callable[[str, bytes], bool]:
    """Whether (topic, key) goes to a partition this worker's consumer is assigned now, as
    the producer's default partitioner places it (stream/key_partitions.py). A stale answer
    costs a validation, or a payload kept until pushed out: a reader only ever gets the events
    of the very bytes it read."""

    def reads_here(topic: str, key: bytes) -> bool:
        partitions = app.partition_counts(topic)
        if partitions is None:  # no metadata for the topic yet
            return False
        return TP(topic, key_partition(key, partitions)) in app.consumer.assignment()

    return reads_here


def create_app(settings: Settings) -> AttritionApp:
    seek_before_fetch.install()
    if settings.embedded_broker:
        from attrition.broker.tansu_end_offsets import install_faust_end_offset_fix
        from attrition.broker.tansu_fetch_wait import install_faust_fetch_wait_fix

        install_faust_end_offset_fix(settings.bootstrap_servers)
        install_faust_fetch_wait_fix()
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    app = AttritionApp(
        settings.group_id,
        broker=settings.broker_url,
        broker_credentials=faust_credentials(settings.security),
        store=settings.store,
        datadir=str(data_dir / settings.group_id),
        autodiscover=False,
        topic_partitions=settings.topics.partitions,
        topic_replication_factor=settings.topics.replication_factor,
        # Group joins wait about half the session timeout: Faust's 60 s default would make a
        # fresh worker idle for 30 s before it gets partitions.
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(settings.session_timeout_s / 6, 0.5),
        broker_rebalance_timeout=settings.session_timeout_s,
        table_standby_replicas=settings.standby_replicas,
        # Offsets are what `wait_until_idle` and a restart go by: commit often, it is cheap.
        broker_commit_interval=settings.commit_interval_seconds,
        consumer_auto_offset_reset="earliest",
        producer_linger=0.005,
        producer_max_request_size=settings.max_record_bytes,
        producer_acks=-1,
        producer_compression_type=(
            None if settings.producer_compression == "none" else settings.producer_compression
        ),
        web_enabled=settings.web_enabled,
        web_port=settings.web_port,
        web_host=settings.web_host,
        web_bind=settings.web_host,
        table_cleanup_interval=60.0,
        logging_config=logging_config(settings.log_format, settings.log_level),
    )
    app.settings = settings
    app.topics_ = Topics.declare(app, settings)
    app.partition_counts = partition_counts(app)
    app.decoder = SharedDecoder(readers_per_topic(settings), reads_here=_reads_here(app))
    app.prompt_commits = PromptCommits(app)

    from attrition.stream import (
        alert_agent,
        alert_notify_agent,
        broker_watch,
        delta_stream,
        ingest_views,
        metrics,
        parse_agent,
        sink_agent,
        totals_agent,
        web_views,
    )

    metrics.register(app)
    stages = {
        "parse": parse_agent.register,
        "totals": totals_agent.register,
        "alerts": alert_agent.register,
        "notify": alert_notify_agent.register,
        "sinks": sink_agent.register,
    }
    for stage, register in stages.items():
        if stage in settings.stages:
            register(app)
    web_views.register(app)
    broker_watch.register(app)
    ingest_views.register(app)
    delta_stream.register(app)
    return app
