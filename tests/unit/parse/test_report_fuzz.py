"""Hostile input: the report parser either reads it or raises NotAReport, and never hangs."""

from __future__ import annotations

import time
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attrition.contracts.events import LossEvent, RawDocument
from attrition.parse.report_parser import NotAReport, ReportParse, parse_report

TODAY = date(2030, 1, 1)
HEADER = "The total combat losses of the enemy from 24.02 to 12.04 were approximately:\n"
# Every code point, lone surrogates included (as produced by decoding with surrogateescape).
ANY_CHARACTER = st.characters(codec=None, categories=None)
REPORT_PIECES = st.sampled_from(
    [
        "tanks", "APV", "‒", "–", "-", "—", " ", "\u00a0", "\u202f", "(", ")", "+", "(+",
        "1", "12", "1 234", "1,234", "\n", "about", "близько", "до", "осіб", "од", ".", ",",
        "/", "РСЗВ", "Кораблі (катери)", "24.02", "12.04.2022", "\u202e", "\u200f", "\ud800",
        "9" * 40,
    ]
)  # fmt: skip


def hostile_document(text: str, doc_id: str = "fuzz") -> RawDocument:
    # Built without validation: pydantic refuses lone surrogates, but a producer that decodes
    # with surrogateescape could still hand one over, and the parser must not mind.
    return RawDocument.model_construct(
        id=doc_id, kind="report", published=date(2022, 4, 12), text=text
    )


def parse_or_refuse(text: str, *, max_line_chars: int = 20_000) -> ReportParse | None:
    doc = hostile_document(text)
    try:
        parsed = parse_report(doc, max_line_chars=max_line_chars, today=TODAY)
    except NotAReport:
        return None
    for event in parsed.events:
        assert text[event.span.start : event.span.end] == event.span.text
        assert event.total is None or 0 <= event.total <= 10**12
    return parsed


@settings(max_examples=200, deadline=None)
@given(st.text(ANY_CHARACTER, max_size=400))
def test_arbitrary_text_never_raises_anything_else(text: str) -> None:
    parse_or_refuse(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(REPORT_PIECES, max_size=60).map("".join))
def test_report_like_noise_never_raises_anything_else(text: str) -> None:
    parse_or_refuse(HEADER + text)
    parse_or_refuse(text, max_line_chars=10)


@settings(max_examples=100, deadline=None)
@given(st.lists(REPORT_PIECES, max_size=60).map("".join))
def test_events_from_noise_are_valid_events(text: str) -> None:
    parsed = parse_or_refuse(HEADER + "tanks ‒ 5 (+1)\n" + text)
    assert parsed is not None
    for event in parsed.events:
        assert LossEvent.model_validate(event.model_dump()) == event


ADVERSARIAL_LINES = [
    "(" * 1_000_000,
    "( " * 500_000,
    "(+" * 500_000,
    "(+1" * 333_333,
    "1 " * 500_000,
    "1," * 500_000,
    "9" * 1_000_000,
    " " * 1_000_000 + "x",
    "tanks ‒ " + " " * 999_000 + "5",
    "‒" * 1_000_000,
    "a/" * 500_000,
    "tanks " * 166_666 + "‒ 5 (+1)",
    "24.02." * 166_666,
    "\u202e" * 1_000_000,
    "близько " * 125_000 + "5",
]


@pytest.mark.parametrize("line", ADVERSARIAL_LINES, ids=range(len(ADVERSARIAL_LINES)))
@pytest.mark.parametrize("limit", [20_000, 2_000_000], ids=["skipped", "read"])
def test_a_megabyte_adversarial_line_is_handled_quickly(line: str, limit: int) -> None:
    started = time.perf_counter()
    parsed = parse_or_refuse(HEADER + line + "\nAPV ‒ 7 (+1)", max_line_chars=limit)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.2f}s"
    assert parsed is not None  # the honest line after it is still read
    assert any(e.total == 7 for e in parsed.events)
    if limit == 20_000:
        assert any("line 2 skipped" in w for w in parsed.warnings)


def test_many_short_lines_are_linear() -> None:
    text = HEADER + "tanks ‒ 1 (+1)\n" * 20_000
    started = time.perf_counter()
    parsed = parse_or_refuse(text)
    assert time.perf_counter() - started < 2.0
    assert parsed is not None and len(parsed.events) == 20_000


def test_thousand_digit_numbers_are_refused_not_converted() -> None:
    digits = "9" * 1000
    parsed = parse_or_refuse(f"{HEADER}tanks ‒ 5 (+{digits})\nAPV ‒ {digits}\nMLRS ‒ 3")
    assert parsed is not None
    assert [(e.category.value, e.total) for e in parsed.events] == [("mlrs", 3)]
    assert sum("out of range" in w for w in parsed.warnings) == 2


def test_document_id_with_a_lone_surrogate_is_refused() -> None:
    doc = hostile_document(HEADER + "tanks ‒ 5", doc_id="bad\udc80")
    with pytest.raises(NotAReport, match="not valid Unicode"):
        parse_report(doc, today=TODAY)


def test_lines_with_lone_surrogates_are_skipped_with_a_warning() -> None:
    parsed = parse_or_refuse(HEADER + "tanks\ud800 ‒ 5 (+1)\nAPV ‒ 7 (+2)")
    assert parsed is not None
    assert [(e.category.value, e.total) for e in parsed.events] == [("armoured_combat_vehicles", 7)]
    assert any("not valid Unicode" in w for w in parsed.warnings)


def test_direction_overrides_and_odd_spaces_inside_a_report() -> None:
    text = HEADER + "\u202etanks ‒ 5 (+1)\u202c\n\ufeffAPV\u2009‒\u20097\u00a0(+2)\r\n"
    parsed = parse_or_refuse(text)
    assert parsed is not None
    assert [(e.total, e.delta) for e in parsed.events][-1] == (7, 2)
