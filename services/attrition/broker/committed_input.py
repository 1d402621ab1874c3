"""What the totals stage has committed of a key's loss events: the events a rebuilt ledger must
start from, read back from the loss-events topic (`attrition state rebuild` checks that the
warehouse holds every one of them)."""

from __future__ import annotations

from pydantic import ValidationError

from attrition.broker.consumer_progress import committed_offset
from attrition.broker.topic_reader import partition_count, read_records
from attrition.contracts.batches import decode_loss_batch
from attrition.settings import Settings
from attrition.stream.batches import refusal


async def committed_loss_event_ids(settings: Settings, key: str, partition: int) -> set[str]:
    """The ids of the loss events of `key` in the messages of the loss-events topic that the
    group has committed on `partition`. Messages the stages refuse (they do not decode, or
    `stream.batches.refusal` says no stage may read them) are left out: they went to the dead
    letters, not the warehouse."""
    topic = settings.topics.loss_events
    upto = await committed_offset(settings, topic, partition)
    ids: set[str] = set()
    if upto == 0:
        return ids
    partitions = await partition_count(settings, topic)
    for record in await read_records(settings, topic, upto={partition: upto}):
        if record.value is None:
            continue
        try:
            events = decode_loss_batch(record.value)
        except ValidationError:
            continue
        keys = list(dict.fromkeys(e.totals_key for e in events))
        if refusal(record.key, keys, record.partition, partitions) is None:
            ids.update(e.event_id for e in events if e.totals_key == key)
    return ids
