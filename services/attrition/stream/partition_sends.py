"""How a stage sends the events it produced from a batch: framed one message per partition of
the topic (contracts/batches.py), each keyed by its first event, so that Kafka's default
partitioner puts it in the partition of every event it holds (stream/key_partitions.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from attrition.contracts.batches import framed
from attrition.stream.key_partitions import K, by_partition

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp


async def send_by_partition(
    app: AttritionApp,
    topic: str,
    events: Sequence[K],
    encode: Callable[[list[K]], bytes],
    headers: list[tuple[str, bytes]],
) -> None:
    """Send `events`, in order per key. The producer itself, not `topic.send`: no
    FutureMessage per message. Awaiting it waits for room in its buffer, not for delivery:
    Faust flushes the producer before it commits the batch's offsets."""
    settings = app.settings
    max_events, max_bytes = settings.wire_batch_max_events, settings.wire_batch_max_bytes
    for group in by_partition(events, app.partition_counts(topic)):
        for part, payload in framed(group, encode, max_events, max_bytes):
            key = part[0].totals_key.encode()
            await app.producer.send(topic, key, payload, None, None, headers)
            # The stages of this worker that read `topic` take these events as they are.
            app.decoder.sent(topic, key, payload, part)
