"""The loss-events and deltas topics' framing: one partition's events per message, in order."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from attrition.bench.load import loss_events, series_holding
from attrition.contracts.batches import (
    MAX_BATCH_BYTES,
    DeltaBatch,
    LossEventBatch,
    chunks,
    decode_delta_batch,
    decode_loss_batch,
    decode_single,
    encode_delta_batch,
    encode_loss_batch,
    group_by_key,
    payloads,
)
from attrition.contracts.events import DeltaEvent, LossEvent, RawDocument
from attrition.contracts.vocabulary import DocumentKind, QualityFlag
from attrition.contracts.wire import encode
from attrition.parse.article_extractor import extract_claims
from attrition.stream.batches import unpack_by_key
from attrition.stream.key_partitions import PartitionCount, key_partition
from attrition.totals.totals_ledger import TotalsLedger

ARTICLES = Path(__file__).parents[2] / "fixtures" / "articles"


def _losses(n: int) -> list[LossEvent]:
    return list(loss_events(series_holding(n, id_prefix="batches")))[:n]


def test_a_batch_is_the_events_json_in_order_and_decodes_back() -> None:
    events = _losses(40)
    payload = encode_loss_batch(events)
    assert orjson.loads(payload) == {"events": [orjson.loads(encode(e)) for e in events]}
    assert decode_loss_batch(payload) == events


def test_deltas_round_trip_too() -> None:
    events = _losses(26)
    ledgers: dict[str, TotalsLedger] = {}
    deltas = [
        d
        for e in events
        for d in ledgers.setdefault(e.totals_key, TotalsLedger.for_event(e)).apply(e)
    ]
    assert deltas
    assert decode_delta_batch(encode_delta_batch(deltas)) == deltas


def test_an_empty_batch_or_a_malformed_event_is_refused() -> None:
    with pytest.raises(ValidationError):
        decode_delta_batch(b'{"events": []}')
    with pytest.raises(ValidationError):
        decode_loss_batch(b'{"events": [{"event_id": "x"}]}')
    with pytest.raises(ValidationError):
        DeltaBatch.model_validate({"events": [], "extra": 1})


def test_grouping_keeps_each_keys_order_and_chunks_bound_the_size() -> None:
    events = _losses(15 * 5)  # five reports of 15 lines
    grouped = group_by_key(events, lambda e: e.totals_key)
    assert len(grouped) == 15
    for key, keyed in grouped.items():
        assert keyed == [e for e in events if e.totals_key == key]
    parts = list(chunks(list(range(7)), 3))
    assert parts == [[0, 1, 2], [3, 4, 5], [6]]


def _message(key: bytes | None, value: bytes, partition: int | None = None) -> SimpleNamespace:
    """The attributes of a Faust event that unpack_by_key reads; on the key's partition (of
    four) unless told otherwise, as Kafka's default partitioner puts it."""
    if partition is None:
        partition = key_partition(key, 4) if key else 0
    return SimpleNamespace(
        message=SimpleNamespace(key=key, value=value, topic="losses", partition=partition)
    )


def _four(topic: str) -> int:
    return 4


def _unpack(messages: list[SimpleNamespace], partitions: PartitionCount | None = _four) -> Any:
    return unpack_by_key(
        messages, lambda m: decode_loss_batch(m.value), "loss-event batch", partitions
    )


def test_unpacking_a_stage_batch_refuses_what_would_corrupt_a_keys_state() -> None:
    events = _losses(26)
    grouped = group_by_key(events, lambda e: e.totals_key)
    (first, a), (second, b) = list(grouped.items())[:2]
    messages = [
        _message(first.encode(), encode_loss_batch(a[:1])),
        _message(second.encode(), encode_loss_batch(b)),
        _message(first.encode(), encode_loss_batch(a[1:])),
        _message(first.encode(), encode_loss_batch(b)),  # another key's events
        _message(None, encode_loss_batch(a)),  # no key
        _message(first.encode(), b"not json"),
    ]
    by_key, count, refused = _unpack(messages)
    assert count == len(a) + len(b)
    assert by_key[first.encode()][0] == a
    assert by_key[first.encode()][1] is messages[2]  # the key's last message
    assert by_key[second.encode()] == (b, messages[1])
    # Each refused message comes back with why, for its dead letter.
    assert [event for event, _ in refused] == messages[3:]
    why = [detail for _, detail in refused]
    assert why[0] == f"loss-event batch on key {first!r} holds events of {second}"
    assert why[1].startswith("loss-event batch on key None holds events of")
    assert why[2].startswith("not a loss-event batch: ")


def _by_partition(events: list[LossEvent]) -> dict[int, list[str]]:
    keys: dict[int, list[str]] = {}
    for key in dict.fromkeys(e.totals_key for e in events):
        keys.setdefault(key_partition(key.encode(), 4), []).append(key)
    return keys


def test_a_message_holds_the_events_of_several_keys_of_its_partition() -> None:
    events = _losses(60)
    partition, (one, two, *_) = next(
        (p, keys) for p, keys in _by_partition(events).items() if len(keys) >= 2
    )
    ones = [e for e in events if e.totals_key == one][:3]
    twos = [e for e in events if e.totals_key == two][:3]
    messages = [
        _message(one.encode(), encode_loss_batch([ones[0], twos[0], ones[1]]), partition),
        _message(two.encode(), encode_loss_batch([twos[1]]), partition),
        _message(one.encode(), encode_loss_batch([ones[2], twos[2]]), partition),
    ]
    by_key, count, refused = _unpack(messages)
    assert (refused, count) == ([], 6)
    # Each key's events in arrival order, with the last message that held one of them.
    assert by_key == {one.encode(): (ones, messages[2]), two.encode(): (twos, messages[2])}


def test_a_message_with_a_key_of_another_partition_is_refused() -> None:
    events = _losses(60)
    keys = _by_partition(events)
    home, (one, *_) = next(iter(keys.items()))
    other = next(ks[0] for p, ks in keys.items() if p != home)
    mixed = [e for e in events if e.totals_key in (one, other)]
    mixed.sort(key=lambda e: e.totals_key != one)  # the message key's events first
    message = _message(one.encode(), encode_loss_batch(mixed), home)
    by_key, count, refused = _unpack([message])
    assert (by_key, count) == ({}, 0)
    assert refused == [
        (
            message,
            f"loss-event batch on key {one!r} in partition {home} holds events of {other}, "
            "of other partitions",
        )
    ]
    # Where the topic's partition count is not known, only one key's events can be checked.
    _, _, refused = _unpack([message], partitions=lambda topic: None)
    assert refused[0][1] == (
        f"loss-event batch on key {one!r} holds events of several keys "
        f"({', '.join(sorted((one, other)))}) and the topic's partition count is unknown"
    )


def test_a_single_event_topic_decodes_to_a_list_of_one() -> None:
    event = _losses(1)[0]
    assert decode_single(LossEvent)(encode(event)) == [event]
    with pytest.raises(ValidationError):
        decode_single(LossEvent)(b'{"event_id": "x"}')


def test_batches_of_long_lines_are_split_to_fit_a_message_and_keep_their_order() -> None:
    long_line = "tanks ‒ 3000 " + "x" * 19_990
    events = [
        e.model_copy(update={"span": e.span.model_copy(update={"text": long_line})})
        for e in _losses(60)
    ]
    sent = list(payloads(events, encode_loss_batch, max_events=500))
    assert len(sent) > 1
    assert all(len(p) <= MAX_BATCH_BYTES for p in sent)
    assert [e for p in sent for e in decode_loss_batch(p)] == events
    # The usual case: one encoding, one message.
    assert list(payloads(_losses(26), encode_loss_batch, max_events=500)) == [
        encode_loss_batch(_losses(26))
    ]


def _every_kind_of_event() -> tuple[list[LossEvent], list[DeltaEvent]]:
    """Report figures, article claims (ranges, measures, periods, lower confidence), flagged
    and unicode ones, and the deltas of all of them with every flag a ledger sets."""
    losses = _losses(60)
    for path in sorted(ARTICLES.glob("*.txt")):
        document = RawDocument(
            id=path.stem, kind=DocumentKind.article, published=date(2023, 1, 24),
            text=path.read_text(encoding="utf-8"),
        )  # fmt: skip
        losses.extend(extract_claims(document).events)
    first = losses[0]
    losses += [
        first.model_copy(update={"quality": list(QualityFlag), "label": "танки ‒ “quoted” \\ \"x\"",
                                 "delta": -5, "low": 1, "high": 10**12, "confidence": 1e-7})
    ]  # fmt: skip
    ledgers: dict[str, TotalsLedger] = {}
    deltas: list[DeltaEvent] = []
    for event in [*losses, *reversed(losses)]:  # late days and re-sends: every delta flag
        ledger = ledgers.setdefault(event.totals_key, TotalsLedger.for_event(event))
        deltas.extend(ledger.apply(event))
    return losses, deltas


def test_batches_encode_to_the_bytes_of_pydantics_serializer() -> None:
    losses, deltas = _every_kind_of_event()
    assert {e.measure for e in losses} > {None} and any(e.period_days for e in losses)
    assert any(d.replaces for d in deltas) and any(d.flags for d in deltas)
    for event in losses:
        assert (
            encode_loss_batch([event]) == LossEventBatch(events=[event]).model_dump_json().encode()
        )
    for delta in deltas:
        assert encode_delta_batch([delta]) == DeltaBatch(events=[delta]).model_dump_json().encode()
    assert encode_loss_batch(losses) == LossEventBatch(events=losses).model_dump_json().encode()


def test_one_keys_events_on_another_partition_are_refused_too() -> None:
    events = _losses(30)
    key = events[0].totals_key
    own = [e for e in events if e.totals_key == key]
    home = key_partition(key.encode(), 4)
    elsewhere = _message(key.encode(), encode_loss_batch(own), (home + 1) % 4)
    by_key, count, refused = _unpack([elsewhere])
    assert (by_key, count) == ({}, 0)
    assert refused == [
        (
            elsewhere,
            f"loss-event batch on key {key!r} in partition {(home + 1) % 4} holds events of "
            f"{key}, of other partitions",
        )
    ]
    # Without a partition count a message of one key's events is read where it is.
    by_key, count, refused = _unpack([elsewhere], partitions=lambda topic: None)
    assert (by_key, count, refused) == ({key.encode(): (own, elsewhere)}, len(own), [])
