"""Raw messages to loss events or a dead letter with a reason: never an exception."""

from __future__ import annotations

from datetime import date

import orjson
import pytest

from attrition.contracts.events import RawDocument
from attrition.contracts.vocabulary import Category, DeadLetterReason
from attrition.contracts.wire import encode
from attrition.parse.document_parser import process_raw
from report_fixtures import figures_for, render_report


def _report(text: str, **extra: object) -> bytes:
    return orjson.dumps(
        {"id": "r1", "kind": "report", "published": "2023-01-10", "text": text, **extra}
    )


def test_a_report_becomes_loss_events() -> None:
    text = render_report(date(2023, 1, 10), figures_for(2), figures_for(1))
    outcome = process_raw(_report(text), topic="raw")
    assert outcome.dead_letter is None
    tanks = [e for e in outcome.events if e.category is Category.tanks]
    assert [(e.total, e.delta, e.as_of) for e in tanks] == [
        (
            figures_for(2)[Category.tanks],
            figures_for(2)[Category.tanks] - figures_for(1)[Category.tanks],
            date(2023, 1, 10),
        )
    ]


@pytest.mark.parametrize(
    ("payload", "reason", "says"),
    [
        (b"\xff\xfe not utf-8", DeadLetterReason.not_utf8, "UTF-8"),
        (b"{not json", DeadLetterReason.not_json, "JSON"),
        (b"[1, 2]", DeadLetterReason.invalid_document, "JSON object"),
        (orjson.dumps({"id": "x", "kind": "report"}), DeadLetterReason.invalid_document, "text"),
        (
            orjson.dumps({"id": "x", "kind": "memo", "published": "2023-01-01", "text": "t"}),
            DeadLetterReason.invalid_document,
            "kind",
        ),
        (_report("Milk, eggs and bread."), DeadLetterReason.not_a_report, ""),
    ],
)
def test_bad_input_becomes_a_dead_letter_with_a_reason(
    payload: bytes, reason: DeadLetterReason, says: str
) -> None:
    outcome = process_raw(payload, topic="raw.reports", key=b"k")
    assert outcome.events == ()
    assert outcome.dead_letter is not None
    assert outcome.dead_letter.reason is reason
    assert says in outcome.dead_letter.detail
    assert outcome.dead_letter.source_topic == "raw.reports"
    assert outcome.dead_letter.payload_size == len(payload)


def test_too_large_message_is_refused_before_decoding() -> None:
    outcome = process_raw(b"x" * 5000, topic="raw", max_bytes=4096)
    assert outcome.dead_letter is not None
    assert outcome.dead_letter.reason is DeadLetterReason.too_large
    assert "5000" in outcome.dead_letter.detail


def test_dead_letter_ids_are_deterministic() -> None:
    first = process_raw(b"{oops", topic="raw", key=b"k").dead_letter
    again = process_raw(b"{oops", topic="raw", key=b"k").dead_letter
    assert first is not None and again is not None
    assert first.dead_letter_id == again.dead_letter_id


def test_event_ids_are_deterministic_across_replays() -> None:
    doc = RawDocument(
        id="r9",
        kind="report",
        published=date(2023, 1, 3),
        text=render_report(date(2023, 1, 3), figures_for(0), None),
    )
    first = [e.event_id for e in process_raw(encode(doc), topic="a").events]
    second = [e.event_id for e in process_raw(encode(doc), topic="b").events]
    assert first == second and len(set(first)) == len(first)
