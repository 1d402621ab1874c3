"""Dead letters from the stages past the parser: a loss-events or deltas message that a stage
refuses (it does not decode, or `stream.batches.refusal` gives why), or an alerts or dead-letters
message that does not decode, is recorded on the dead-letters topic with why, as an unreadable
raw message is, instead of only a line in the log.

Only the stage that reads the topic first records it (the totals stage for loss events, the
alert stage for deltas, the sinks for alerts and dead letters); the sinks, which read loss
events and deltas too, only log those. Its id comes from the topic, key and payload, so a
redelivered batch records the same dead letter again, not a second. A dead letter about a
dead-letters message is itself a valid one, so the sinks store it and it goes no further."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from attrition.contracts.events import DeadLetter
from attrition.contracts.vocabulary import DeadLetterReason
from attrition.contracts.wire import encode, headers_for
from attrition.parse.document_parser import dead_letter

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)

_HEADERS = headers_for(DeadLetter)


async def send_dead_letter(app: AttritionApp, letter: DeadLetter) -> None:
    """Count it, and hand it to the producer (Faust flushes the producer before it commits the
    offsets of the message it came from)."""
    metrics = app.metrics  # type: ignore[attr-defined]
    metrics.dead_letters.labels(letter.reason.value).inc()
    metrics.events_out.labels(app.settings.topics.dead_letters).inc()
    await app.topics_.dead_letters.send(
        key=(letter.source_id or letter.dead_letter_id).encode(),
        value=encode(letter),
        headers=_HEADERS,
    )


async def refuse(app: AttritionApp, refused: Sequence[tuple[Any, str]]) -> None:
    """A dead letter for each message a stage refused (stream/batches.unpack_by_key)."""
    for event, why in refused:
        message = event.message
        value = message.value
        payload = value if isinstance(value, bytes) else bytes(value or b"")
        letter = dead_letter(
            DeadLetterReason.invalid_event, why, payload, message.topic, message.key
        )
        log.warning("dead letter: %s (%s) from %s", letter.reason.value, why[:200], message.topic)
        await send_dead_letter(app, letter)
