"""The worker's record batches are compressed as `producer_compression` says, and the real
embedded broker keeps and serves them so: each codec read back from the broker's own fetch
answer, and the records decompressed intact by a consumer."""

from __future__ import annotations

import asyncio
from typing import Any, get_args

import pytest
from aiokafka import TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.record.default_records import DefaultRecordBatch
from aiokafka.record.memory_records import MemoryRecords

from attrition.broker.topic_admin import ensure_topics
from attrition.broker.topic_reader import groupless_consumer
from attrition.settings import Settings

CODECS: dict[str, int] = {
    "none": DefaultRecordBatch.CODEC_NONE,
    "gzip": DefaultRecordBatch.CODEC_GZIP,
    "snappy": DefaultRecordBatch.CODEC_SNAPPY,
    "lz4": DefaultRecordBatch.CODEC_LZ4,
    "zstd": DefaultRecordBatch.CODEC_ZSTD,
}
MESSAGES = 30


def _values() -> list[bytes]:
    # Like a framed message of deltas: the same keys again and again, which is what compresses.
    event = b'{"claimant":"ua_general_staff","subject":"russia","category":"tanks","total":%d}'
    return [
        b'{"events":[' + b",".join(event % (n * 100 + i) for i in range(50)) + b"]}"
        for n in range(MESSAGES)
    ]


async def _batch_codecs(settings: Settings, tp: TopicPartition) -> list[int]:
    """The codec of every record batch on `tp`, as the broker's fetch answer holds them."""
    client = AIOKafkaClient(bootstrap_servers=settings.bootstrap_servers)
    await client.bootstrap()
    try:
        await client.force_metadata_update()
        leader = client.cluster.leader_for_partition(tp)
        request = FetchRequest(100, 1, 1 << 24, 0, [(tp.topic, [(tp.partition, 0, 1 << 24)])])
        response: Any = await client.send(leader, request)
        # A partition's answer ends with its records, in every version of the response.
        records = MemoryRecords(response.topics[0][1][0][-1])
        codecs = []
        while (batch := records.next_batch()) is not None:
            codecs.append(batch.compression_type)
        return codecs
    finally:
        await client.close()


async def _read_back(settings: Settings, tp: TopicPartition) -> list[bytes]:
    consumer = groupless_consumer(settings)
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        values: list[bytes] = []
        deadline = asyncio.get_running_loop().time() + 10
        while len(values) < MESSAGES and asyncio.get_running_loop().time() < deadline:
            found = await consumer.getmany(tp, timeout_ms=500)
            values.extend(record.value for record in found.get(tp, []))
        return values
    finally:
        await consumer.stop()


def test_every_codec_the_setting_offers_is_tested() -> None:
    choices = get_args(Settings.model_fields["producer_compression"].annotation)
    assert set(choices) == set(CODECS)
    assert Settings().producer_compression == "zstd"


@pytest.mark.parametrize("codec", list(CODECS))
async def test_the_workers_producer_compresses_as_the_settings_say(
    pipeline_settings: Settings, codec: str
) -> None:
    from attrition.stream.app import create_app

    settings = pipeline_settings.model_copy(update={"producer_compression": codec})
    await ensure_topics(settings)
    tp = TopicPartition(settings.topics.deltas, 0)
    app = create_app(settings)
    # The producer the worker's stages send with, as Faust builds it from the app's settings.
    producer = app.producer
    await producer.start()
    try:
        for value in _values():
            await producer.send(tp.topic, b"key", value, 0, None, None)
        await producer.flush()
    finally:
        await producer.stop()

    codecs = await _batch_codecs(settings, tp)
    assert codecs, "the broker returned no record batch"
    assert set(codecs) == {CODECS[codec]}
    assert await _read_back(settings, tp) == _values()
