"""A stage's table entry as its changelog holds it: found by key, and removed with a tombstone.

A worker that meets an entry it cannot decode stops, naming the table and the key
(stream/state_table.StateUnreadable). With the workers stopped, a tombstone (a record of the key
with no value) in the partition that holds the entry removes it: the next worker restores the
table without it, and the key starts over. Faust writes a key's entry to the changelog
partition of the message it came from, so the partition is found by reading the changelog,
not computed."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from attrition.broker.consumer_progress import end_offsets
from attrition.broker.kafka_security import aiokafka_kwargs
from attrition.settings import Settings

#: The tables of the stages that keep state, by the name their changelog carries.
TABLES = ("totals-ledger", "spike-detector")


def changelog_topic(settings: Settings, table: str) -> str:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}: one of {', '.join(TABLES)}")
    return f"{settings.group_id}-{table}-changelog"


async def latest_entries(
    settings: Settings, table: str, timeout_s: float = 60.0
) -> dict[tuple[bytes, int], int | None]:
    """The last record of each key in each changelog partition, as the table restores it: its
    size in bytes (key and value), or None for a tombstone (the entry was removed)."""
    topic = changelog_topic(settings, table)
    tps = [TopicPartition(topic, p) for p in range(settings.topics.partitions)]
    security = aiokafka_kwargs(settings.security)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, group_id=None, **security
    )
    await consumer.start()
    try:
        ends = await end_offsets(settings, consumer, tps)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        found: dict[tuple[bytes, int], int | None] = {}
        deadline = asyncio.get_running_loop().time() + timeout_s
        while remaining:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{topic} not read to its end in {timeout_s:.0f}s")
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for record in records:
                    if record.key is None:
                        continue
                    size = None if record.value is None else len(record.key) + len(record.value)
                    found[(record.key, tp.partition)] = size
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return found
    finally:
        await consumer.stop()


async def entry_partitions(settings: Settings, table: str, key: bytes) -> dict[int, bool]:
    """The changelog partitions that hold a record of `key`, each with whether its last record
    there has a value (False: a tombstone already removed it)."""
    entries = await latest_entries(settings, table)
    return {p: size is not None for (k, p), size in entries.items() if k == key}


async def write_entry(
    settings: Settings, table: str, key: bytes, value: bytes | None, partitions: list[int]
) -> None:
    """Write `value` (None: a tombstone) as the key's entry in each of `partitions` of the
    table's changelog. Run it with the workers of that table stopped: a running worker reads
    its changelog only when it starts or takes partitions over, and would write the entry it
    holds in memory again."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        **aiokafka_kwargs(settings.security),
    )
    await producer.start()
    try:
        topic = changelog_topic(settings, table)
        for partition in partitions:
            await producer.send_and_wait(topic, value, key=key, partition=partition)
    finally:
        await producer.stop()


async def drop_entry(settings: Settings, table: str, key: bytes) -> list[int]:
    """A tombstone of `key` in every changelog partition whose last record of it has a value;
    the partitions written (see `write_entry`)."""
    found = await entry_partitions(settings, table, key)
    live = [partition for partition, has_value in found.items() if has_value]
    if live:
        await write_entry(settings, table, key, None, live)
    return live
