"""End offsets read from fetch responses (broker/tansu_end_offsets.py), against the real
embedded broker: Tansu reports the start of a partition's last batch + 1, not its end."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from attrition.broker.tansu_end_offsets import true_end_offsets
from attrition.settings import Settings


async def _produce_batches(settings: Settings, topic: str, sizes: list[int]) -> None:
    """Each size a batch of its own on partition 0 (sent together, then flushed)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=100)
    await producer.start()
    try:
        for size in sizes:
            for n in range(size):
                await producer.send(topic, f"m{n}".encode(), partition=0)
            await producer.flush()
    finally:
        await producer.stop()


async def _reported(settings: Settings, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


async def test_true_end_offsets_count_every_message_of_the_last_batch(
    pipeline_settings: Settings,
) -> None:
    topic = pipeline_settings.topics.raw_articles
    await _produce_batches(pipeline_settings, topic, [5, 1, 7])
    tps = [TopicPartition(topic, p) for p in range(pipeline_settings.topics.partitions)]
    ends = await true_end_offsets(pipeline_settings.bootstrap_servers, tps)
    assert ends[tps[0]] == 13
    assert all(ends[tp] == 0 for tp in tps[1:])
    # What the broker reports stops short of the last batch's messages: why this module exists.
    assert (await _reported(pipeline_settings, tps))[tps[0]] < 13


async def test_a_partition_whose_fetch_gets_no_answer_is_left_out_when_asked(
    pipeline_settings: Settings,
) -> None:
    topic = pipeline_settings.topics.raw_articles
    await _produce_batches(pipeline_settings, topic, [3, 4])
    tps = [TopicPartition(topic, p) for p in range(2)]
    reported = await _reported(pipeline_settings, tps)
    bootstrap = pipeline_settings.bootstrap_servers
    # No time for any fetch: the non-empty partition gets no answer, the empty one needs none.
    assert await true_end_offsets(bootstrap, tps, timeout_s=0, answered_only=True) == {tps[1]: 0}
    # Without `answered_only`, the reported offset stands in for the missing answer.
    assert await true_end_offsets(bootstrap, tps, timeout_s=0) == {
        tps[0]: reported[tps[0]],
        tps[1]: 0,
    }
    assert (await true_end_offsets(bootstrap, tps))[tps[0]] == 7
