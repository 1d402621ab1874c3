"""A stage's table entry as its changelog holds it: found by key, and removed with a tombstone.

A worker that meets an entry it cannot decode stops, naming the table and the key
(stream/state_table.StateUnreadable). With the workers stopped, a tombstone (a record of the key
with no value) in the partition that holds the entry removes it: the next worker restores the
table without it, and the key starts over. Faust writes a key's entry to the changelog
partition of the message it came from, so the partition is found by reading the changelog,
not computed."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from attrition.broker.kafka_security import aiokafka_kwargs
from attrition.broker.topic_reader import read_records
from attrition.settings import Settings, record_bytes

#: The tables of the stages that keep state, by the name their changelog carries.
LEDGER_TABLE = "totals-ledger"
DETECTOR_TABLE = "spike-detector"
TABLES = (LEDGER_TABLE, DETECTOR_TABLE)


def changelog_topic(settings: Settings, table: str) -> str:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}: one of {', '.join(TABLES)}")
    return f"{settings.group_id}-{table}-changelog"


async def latest_entries(settings: Settings, table: str) -> dict[tuple[bytes, int], int | None]:
    """The last record of each key in each changelog partition, as the table restores it: its
    size as a record (`record_bytes`), or None for a tombstone (the entry was removed)."""
    found: dict[tuple[bytes, int], int | None] = {}
    for record in await read_records(settings, changelog_topic(settings, table)):
        if record.key is not None:
            size = None if record.value is None else record_bytes(record.key, record.value)
            found[(record.key, record.partition)] = size
    return found


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
