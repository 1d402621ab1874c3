"""The parsers' speed shortcuts change nothing: events built without validation equal validated
ones in every respect, and every prefilter lets through whatever the full pattern would find."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attrition.contracts import trusted
from attrition.contracts.events import LossEvent, RawDocument, TextSpan, loss_event_id
from attrition.contracts.vocabulary import DocumentKind, QualityFlag
from attrition.evaluation.throughput import measure
from attrition.parse import (
    article_attribution,
    article_dates,
    article_sentences,
    numbers,
)
from attrition.parse.article_attribution import _source_before, find_attributions
from attrition.parse.article_dates import DateHints, find_dates
from attrition.parse.article_extractor import _lower, extract_claims
from attrition.parse.article_numbers import NumberWordHints, find_tokens
from attrition.parse.article_sentences import split_sentences
from attrition.parse.article_vocabulary import (
    BEFORE_NOT_A_CLAIM_ENDINGS,
    BEFORE_NOT_A_CLAIM_RE,
    QUALIFIER_BEFORE_ENDINGS,
    QUALIFIER_BEFORE_RE,
    search_before,
)
from attrition.parse.report_parser import NotAReport, parse_report

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
REPORTS = sorted((FIXTURES / "reports").glob("*.txt"))
ARTICLES = sorted((FIXTURES / "articles").glob("*.txt"))
TODAY = date(2026, 12, 31)


def _report_events(path: Path) -> list[LossEvent]:
    doc = RawDocument(
        id=path.name, kind=DocumentKind.report, published=date(2022, 7, 31), text=path.read_text()
    )
    try:
        return list(parse_report(doc, today=TODAY).events)
    except NotAReport:
        return []


def _article_events(path: Path) -> list[LossEvent]:
    doc = RawDocument(
        id=path.name, kind=DocumentKind.article, published=date(2023, 1, 24), text=path.read_text()
    )
    return list(extract_claims(doc).events)


def _assert_like_validated(event: LossEvent) -> None:
    validated = LossEvent.model_validate(event.model_dump())
    assert validated == event
    assert LossEvent.model_validate_json(event.model_dump_json()) == event
    assert repr(validated) == repr(event)
    assert list(event.__dict__) == list(LossEvent.model_fields)
    assert event.model_fields_set == validated.model_fields_set
    assert event.__pydantic_extra__ is None and event.__pydantic_private__ is None
    assert event.span.model_fields_set == set(TextSpan.model_fields)
    assert TextSpan.model_validate(event.span.model_dump()) == event.span


@pytest.mark.parametrize("path", REPORTS + ARTICLES, ids=lambda p: p.name)
def test_events_built_without_validation_are_validated_events(path: Path) -> None:
    events = _report_events(path) if path in REPORTS else _article_events(path)
    for event in events:
        _assert_like_validated(event)


def test_copying_one_event_leaves_the_others_alone() -> None:
    # Report events share one fields-set; a copy must never write through to it.
    events = _report_events(FIXTURES / "reports" / "official_en_2022.txt")
    events += _report_events(FIXTURES / "reports" / "aggregator_uk_2023.txt")
    first, rest = events[0], events[1:]
    copied = first.model_copy(update={"quality": [QualityFlag.delta_mismatch]})
    assert copied.quality == [QualityFlag.delta_mismatch] and first.quality == []
    for event in rest:
        _assert_like_validated(event)


def test_event_ids_follow_the_contract_far_into_a_report() -> None:
    # Ids hash the line offset; offsets past the precomputed ones take the slow path.
    text = "Data are being updated.\n" * 150 + "tanks ‒ 1763 (+4),\nAPV ‒ 4004 (+9),\n"
    doc = RawDocument(id="far", kind=DocumentKind.report, published=date(2022, 7, 31), text=text)
    events = parse_report(doc, today=TODAY).events
    assert len(events) == 2 and events[0].span.start > 2048
    for event in events:
        assert event.event_id == loss_event_id(
            doc.id, event.claimant, event.subject, event.category, event.measure, event.span.start
        )


def test_trusted_helpers_build_what_validation_builds() -> None:
    span = trusted.span(3, 9, "tanks ")
    assert span == TextSpan(start=3, end=9, text="tanks ")
    assert span.model_fields_set == TextSpan(start=3, end=9, text="tanks ").model_fields_set


# Fragments the article prefilters key on, mixed with words that merely resemble them.
_FRAGMENTS = [
    "Monday", "Sunday", "between", "and", "yesterday", "Today", "TODAY", "the previous day",
    "the day before", "a day earlier", "Jan.", "January", "May", "23", "2023-01-23",
    "23.01.2023", "1.5", "3-4", "121,480", "one", "someone", "twenty-one", "a dozen",
    "dozens", "tens of thousands", "thousands", "seventy", "seventeen", "often", "ten",
    "the", "ministry", "the ministry said", "the military staff", "the general staff",
    "Russia", "russia's", "said", "according to the", "citing", "per", "data from",
    "tanks", ".", ",", "(", ")", "-", "\u2019", "_one", "3two", "day", "Day", "dAY",
]  # fmt: skip
_PROSE = st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=6)), max_size=30).map(
    " ".join
)


def _sentences_of(text: str) -> list[tuple[int, int]]:
    bounds = [(s.start, s.end) for s in split_sentences(text, 20_000, [])]
    return [*bounds, (0, len(text))]


@settings(max_examples=300, deadline=None)
@given(_PROSE)
def test_date_hints_never_skip_a_date(text: str) -> None:
    low = _lower(text)
    hints = DateHints(text, low)
    for start, end in _sentences_of(text):
        found, _ = find_dates(text, start, end, date(2023, 1, 24), None)
        if found:
            assert hints.may_have_dates(start, end), text[start:end]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="JFMASONDajnebrpyulgctov .", max_size=40))
def test_date_hints_find_the_month_heads_each_search_finds(text: str) -> None:
    months = DateHints(text, _lower(text))._months
    assert months == tuple(m for m in article_dates._MONTH_HEADS if m in text)


@settings(max_examples=300, deadline=None)
@given(_PROSE)
def test_number_word_hints_never_skip_a_number_word(text: str) -> None:
    low = _lower(text)
    hints = NumberWordHints(low)
    for start, end in _sentences_of(text):
        every = find_tokens(text, low, start, end)
        hinted = find_tokens(
            text, low, start, end, number_words=hints.may_have_number_words(start, end)
        )
        assert hinted == every, text[start:end]


# The attribution head pattern before "the" was narrowed to the words that can follow it.
_EVERY_HEAD = re.compile(
    r"\b(?:the |ukrain|russia|general|armed|minist|igor|konash|british|uk|u\.k|britain|united"
    r"|defen|pentagon|us |u\.s|american|white|kyiv|kiev|zelensk|moscow|kremlin|military|it |they )"
)


@settings(max_examples=300, deadline=None)
@given(_PROSE)
def test_attributions_are_those_every_head_finds(text: str) -> None:
    low = _lower(text)
    narrowed = find_attributions(low, 0, len(low), None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(article_attribution, "_HEAD_RE", _EVERY_HEAD)
        assert find_attributions(low, 0, len(low), None) == narrowed


@settings(max_examples=500, deadline=None)
@given(_PROSE.map(lambda t: t[-30:]))
def test_source_before_agrees_with_its_pattern(before: str) -> None:
    low = _lower(before)
    expected = article_attribution._SOURCE_BEFORE_RE.search(low) is not None
    assert _source_before(low) == expected


_DAY_MONTH_BEFORE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})(?:\.([0-9]{4}|[0-9]{2}))?(?![0-9])")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789.: abc", max_size=40))
def test_header_dates_read_as_before(line: str) -> None:
    got = [m.groups() + m.span() for m in numbers.DAY_MONTH.finditer(line)]
    assert got == [m.groups() + m.span() for m in _DAY_MONTH_BEFORE.finditer(line)]


# The loss-line pattern as it was before its optional parts became branches and its tail
# stopped being copied: the parser must see the same lines, offsets and figures.
_LOSS_LINE_BEFORE = re.compile(
    rf"\n[{numbers.WHITESPACE}]*+"
    rf"(?P<prefix>[^\n0-9(]*+(?:\((?!{numbers._SPACE}[+{numbers.DASHES}]?{numbers._SPACE}[0-9])"
    rf"[^\n0-9(]*+)*+)"
    rf"(?={numbers._FIGURE_AHEAD})"
    rf"(?P<total>{numbers._NUMBER})?{numbers._SPACE}(?:[^\W\d_]{{1,12}}\.?{numbers._SPACE})?"
    rf"(?:\({numbers._SPACE}(?P<sign>[+{numbers.DASHES}])?{numbers._SPACE}"
    rf"(?P<number>{numbers._NUMBER}){numbers._SPACE}\))?"
    r"(?P<tail>[^\n0-9]*+)(?P<more>[^\n]*+)"
)
_LINE_PIECES = [
    "\n", " ", "\t", "\u00a0", "\u202f", "(", ")", "+", "‒", "-", ".", ",", ":", "1", "23", "456",
    "1 234", "7,000", "tanks", "осіб", "од", "about", "понад", "x", "ÿ", "_",
]  # fmt: skip


def _loss_lines(pattern: re.Pattern[str], text: str) -> list[tuple[object, ...]]:
    return [
        (
            *m.group("prefix", "total", "sign", "number"),
            bool(m.group("more")),
            m.start("prefix"),
            m.start("tail"),
            m.end(),
        )
        for m in pattern.finditer("\n" + text)
    ]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_LINE_PIECES), max_size=40).map("".join))
def test_loss_lines_found_as_before(text: str) -> None:
    assert _loss_lines(numbers.LOSS_LINE, text) == _loss_lines(_LOSS_LINE_BEFORE, text)
    for m in numbers.LOSS_LINE.finditer("\n" + text):
        assert m.group("line") == m.string[m.start("prefix") : m.end()]


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="0123456789.", max_size=12))
def test_a_whole_line_date_is_the_date_a_search_finds(line: str) -> None:
    # The header reader takes a line that is one date as it is, without its general search.
    whole = numbers.DAY_MONTH.fullmatch(line)
    if whole is not None:
        found = list(numbers.DAY_MONTH.finditer(line))
        assert [(m.span(), m.groups()) for m in found] == [(whole.span(), whole.groups())]


_CLAUSE_BREAK_BEFORE = re.compile(r"[;:()]|,(?=\s)|\s[–—-]\s")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=";:(),- \t\u2013\u2014\u00a0ab1", max_size=40))
def test_clause_breaks_found_as_before(text: str) -> None:
    got = [m.span() for m in article_sentences._CLAUSE_BREAK_RE.finditer(text)]
    assert got == [m.span() for m in _CLAUSE_BREAK_BEFORE.finditer(text)]


_SENTENCE_END_BEFORE = re.compile(r"[.!?]+[\"”’')\]]*(?=\s+[\"“‘(\[]?[A-Z0-9•])")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=".!?\"”’')] \n“‘([A0•a", max_size=40))
def test_sentence_ends_found_as_before(text: str) -> None:
    got = [m.span() for m in article_sentences._SENTENCE_END_RE.finditer(text)]
    assert got == [m.span() for m in _SENTENCE_END_BEFORE.finditer(text)]


_QUALIFIER_BEFORE_BEFORE = re.compile(
    r"\b(?P<more_than>more than|over|beyond|in excess of|upwards of|above|exceeding|exceeded"
    r"|surpassed|surpassing|passed|topped|topping)\s+$"
    r"|\b(?P<at_least>at least|no fewer than|not less than|no less than|a minimum of)\s+$"
    r"|\b(?P<up_to>up to|as many as|no more than|fewer than|less than|under)\s+$"
    r"|\b(?P<about>about|around|roughly|nearly|almost|approximately|some|close to"
    r"|an estimated|estimated|approx\.|circa|~)\s*$",
)
_BEFORE_WORDS = [
    "more than", "over", "in excess of", "topped", "at least", "no fewer than", "a minimum of",
    "up to", "as many as", "under", "about", "some", "close to", "approx.", "circa", "~",
    "$", "€", "£", "₴", "battalion of", "units of", "convoy of", "no.", "number", "page",
    "paragraph", "section", "article", "nos.", "the", "russia", "lost", "of", "to", " ",
    "\u00a0", "\t", "x",
]  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_BEFORE_WORDS), max_size=6).map("".join))
def test_searches_before_a_number_agree_with_their_patterns(before: str) -> None:
    def found(m: re.Match[str] | None) -> tuple[str | None, tuple[int, int]] | None:
        return None if m is None else (m.lastgroup, m.span())

    assert found(search_before(QUALIFIER_BEFORE_RE, QUALIFIER_BEFORE_ENDINGS, before)) == found(
        _QUALIFIER_BEFORE_BEFORE.search(before)
    )
    assert found(search_before(BEFORE_NOT_A_CLAIM_RE, BEFORE_NOT_A_CLAIM_ENDINGS, before)) == found(
        BEFORE_NOT_A_CLAIM_RE.search(before)
    )


def test_throughput_reports_best_and_median_of_timed_passes() -> None:
    calls: list[int] = []
    speed = measure(calls.append, [1, 2, 3], 4)
    assert len(calls) == 3 * 5  # a warm-up pass, then four timed ones
    assert (speed.items, speed.repetitions) == (3, 4)
    assert speed.best >= speed.median > 0
    assert "per core" in speed.describe("reports")
    assert measure(calls.append, [], 4).best == 0.0
