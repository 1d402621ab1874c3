"""A framed message read by two stages of one worker is decoded once, and handed to both."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from attrition.bench.load import loss_events, series_holding
from attrition.contracts.batches import decode_loss_batch, encode_loss_batch
from attrition.contracts.events import LossEvent
from attrition.settings import Settings
from attrition.stream.shared_decode import SharedDecoder, readers_per_topic


class CountingDecoder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, payload: bytes) -> list[LossEvent]:
        self.calls += 1
        return decode_loss_batch(payload)


def _message(offset: int, value: bytes, topic: str = "loss") -> SimpleNamespace:
    """The attributes of a Faust message the decoder reads."""
    return SimpleNamespace(topic=topic, partition=0, offset=offset, value=value)


PAYLOAD = encode_loss_batch(list(loss_events(series_holding(13, id_prefix="shared"))))


def test_two_readers_share_one_decoding_and_nothing_is_kept_after() -> None:
    decode = CountingDecoder()
    shared = SharedDecoder({"loss": 2})
    first = shared.events(_message(7, PAYLOAD), decode)
    second = shared.events(_message(7, PAYLOAD), decode)
    assert first is second and decode.calls == 1
    assert shared.held == 0
    shared.events(_message(7, PAYLOAD), decode)  # a redelivery: decoded again
    assert decode.calls == 2


def test_a_topic_with_one_reader_keeps_nothing() -> None:
    decode = CountingDecoder()
    shared = SharedDecoder({"loss": 1})
    shared.events(_message(1, PAYLOAD), decode)
    shared.events(_message(1, PAYLOAD), decode)
    assert decode.calls == 2 and shared.held == 0


def test_a_reader_far_behind_costs_a_bounded_memory_and_decodes_for_itself() -> None:
    decode = CountingDecoder()
    shared = SharedDecoder({"loss": 2}, max_held=30)
    for offset in range(5):  # the first reader runs ahead
        shared.events(_message(offset, PAYLOAD), decode)
    assert shared.held <= 30
    for offset in range(5):  # the second catches up: the oldest were dropped
        assert shared.events(_message(offset, PAYLOAD), decode) == decode_loss_batch(PAYLOAD)
    assert decode.calls == 5 + 3  # the three dropped, decoded again; the two kept, not


def test_an_undecodable_message_fails_for_every_reader() -> None:
    shared = SharedDecoder({"loss": 2})
    for _ in range(2):
        with pytest.raises(ValidationError):
            shared.events(_message(3, b'{"events": []}'), decode_loss_batch)
    assert shared.held == 0


def test_readers_follow_the_worker_stages() -> None:
    every = Settings()
    t = every.topics
    assert readers_per_topic(every) == {t.loss_events: 2, t.deltas: 2}
    totals_only = Settings(stages=frozenset({"totals"}))
    assert readers_per_topic(totals_only) == {t.loss_events: 1, t.deltas: 0}


def test_what_this_worker_sent_comes_back_without_a_second_validation() -> None:
    decode = CountingDecoder()
    shared = SharedDecoder({"loss": 2})
    reused: list[str] = []
    shared.on_reused = reused.append
    events = decode_loss_batch(PAYLOAD)
    shared.sent("loss", b"k", PAYLOAD, events)
    first = shared.events(_message(4, bytes(PAYLOAD)), decode)  # equal bytes, another object
    second = shared.events(_message(4, PAYLOAD), decode)
    assert first is events and second is events and decode.calls == 0
    assert reused == ["loss"]
    assert shared.sent_bytes == 0 and shared.held == 0
    shared.events(_message(4, PAYLOAD), decode)  # a redelivery: validated like any message
    assert decode.calls == 1


def test_bytes_that_differ_from_what_was_sent_are_validated() -> None:
    decode = CountingDecoder()
    shared = SharedDecoder({"loss": 1})
    events = decode_loss_batch(PAYLOAD)
    shared.sent("loss", b"k", PAYLOAD, events)
    altered = PAYLOAD.replace(b'"total":', b'"total": ', 1)
    assert shared.events(_message(1, altered), decode) == events
    assert decode.calls == 1
    shared.sent("other", b"k", PAYLOAD, events)  # a topic no stage of this worker reads: not kept
    assert shared.events(_message(2, PAYLOAD, topic="other"), decode) == events
    assert decode.calls == 2
    assert shared.sent_bytes == len(PAYLOAD)  # still waiting on "loss"


def test_sent_messages_that_never_come_back_cost_a_bounded_memory() -> None:
    shared = SharedDecoder({"loss": 1}, max_sent_bytes=3 * len(PAYLOAD))
    events = decode_loss_batch(PAYLOAD)
    for n in range(10):
        shared.sent("loss", b"k", PAYLOAD + b" " * n, events)  # JSON with trailing blanks: distinct
    assert shared.sent_bytes <= 3 * len(PAYLOAD) + 10
    decode = CountingDecoder()
    shared.events(_message(0, PAYLOAD), decode)  # the oldest was pushed out
    shared.events(_message(9, PAYLOAD + b" " * 9), decode)  # the newest was kept
    assert decode.calls == 1


def test_what_goes_to_a_partition_another_worker_reads_is_not_kept() -> None:
    ours = {b"ours"}
    shared = SharedDecoder({"loss": 1}, reads_here=lambda topic, key: key in ours)
    events = decode_loss_batch(PAYLOAD)
    shared.sent("loss", b"theirs", PAYLOAD, events)
    assert shared.sent_bytes == 0
    shared.sent("loss", b"ours", PAYLOAD, events)
    assert shared.sent_bytes == len(PAYLOAD)
