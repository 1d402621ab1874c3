"""The General Staff's daily loss report, in any of its wordings, as LossEvents.

A report is a header with the date the figures describe, then one line per category:
`<label> <dash> [qualifier] <total> [unit] (<±delta>) [unit]`. One linear regex
(`numbers.LOSS_LINE`) finds every line that carries a figure; the text before the figure is
looked up in the label table; the first "(±N)" after the total is its delta. Meaning-level
doubts are added by `report_checks`; this module only reads.

It runs for every report on the stream, so the loop is written for speed: one pass, label
prefixes memoised, events built without re-validating values already checked here.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass
from datetime import date
from typing import Final, NamedTuple

from attrition.contracts import trusted
from attrition.contracts.events import LossEvent, RawDocument, TextSpan, loss_event_id
from attrition.contracts.vocabulary import (
    Category,
    Claimant,
    DocumentKind,
    Measure,
    Qualifier,
    QualityFlag,
    Subject,
)
from attrition.parse import numbers
from attrition.parse.label_table import (
    AGGREGATOR_UK,
    OFFICIAL_EN,
    OFFICIAL_UK,
    LabelMatch,
    lookup_label,
)
from attrition.parse.report_checks import check_document, document_in_doubt

_HEADER_LINES: Final = 6  # a header is among the first lines with a number, before any figure
_HEADER_DATES: Final = 4
_UNKNOWN_LABEL_MAX_CHARS: Final = 60
_UNKNOWN_LABEL_MAX_WORDS: Final = 6
_UNKNOWN_TAIL_MAX_CHARS: Final = 40
_SEPARATORS: Final = frozenset(numbers.DASHES + ":")
_SENTENCE_MARKS: Final = frozenset(".!?;")
_WHITESPACE: Final = numbers.WHITESPACE
_LINE: Final = numbers.LOSS_LINE_START
_TAIL: Final = numbers.LOSS_LINE_TAIL
_SHORT_NUMBER: Final = 12  # at most this many plain digits is always within MAX_COUNT
_LABEL_MAX_CHARS: Final = 500  # LossEvent.label's bound

_LATIN: Final = re.compile(r"[A-Za-z]+")
_CYRILLIC: Final = re.compile(r"[\u0400-\u04ff]+")
_LETTER: Final = re.compile(r"[^\W\d_]")

_REPORT: Final = DocumentKind.report
_CLAIMANT: Final = Claimant.ua_general_staff
_SUBJECT: Final = Subject.russia
_OTHER: Final = Category.other
_PERSONNEL: Final = Category.personnel
_CASUALTIES: Final = Measure.casualties
_EXACT: Final = Qualifier.exact
# Line offsets as the event id hashes them, for the offsets most reports' lines start at:
# formatting the number costs a tenth of the whole id.
_OFFSETS: Final = 2048
_OFFSET_DIGITS: Final = tuple(b"%d" % offset for offset in range(_OFFSETS))


class NotAReport(ValueError):
    """The document is not a loss report; the message says why."""


@dataclass(frozen=True, slots=True)
class ReportParse:
    events: tuple[LossEvent, ...]
    warnings: tuple[str, ...]
    style: str  # which wording was recognised: official_en, official_uk, aggregator_uk
    as_of: date


class _Header(NamedTuple):  # a tuple: built once per report, a dataclass costs 5x more
    as_of: date | None
    style: str


# Events are built without re-validating values this module has already checked (see
# `trusted`); the loop sets the slots itself, inlined, as it runs for every line.
_new = trusted.NEW
_SET_DICT: Final = trusted.SET_DICT
_SET_FIELDS_SET: Final = trusted.SET_FIELDS_SET
_SET_EXTRA: Final = trusted.SET_EXTRA
_SET_PRIVATE: Final = trusted.SET_PRIVATE
_EVENT_FIELDS_SET: Final = trusted.EVENT_FIELDS_SET
_SPAN_FIELDS_SET: Final = trusted.SPAN_FIELDS_SET


def _base_template() -> dict[str, object]:
    template: dict[str, object] = dict.fromkeys(LossEvent.model_fields)
    template.update(
        source_kind=_REPORT,
        claimant=_CLAIMANT,
        subject=_SUBJECT,
        qualifier=Qualifier.exact,
        official=True,
        confidence=1.0,
    )
    return template


# Every LossEvent field in declaration order with its report-wide value; each line fills in
# its own. Copying it beats building a dict literal (no key is hashed or inserted), and
# declaration order keeps the events' repr and iteration like validated ones.
_TEMPLATE: Final = _base_template()


def _measure(category: Category) -> Measure | None:
    return _CASUALTIES if category is _PERSONNEL else None


# An enum's `.value` is a Python-level property: read once, not per report.
_ID_AFTER_SOURCE: Final = f"\x1f{_CLAIMANT.value}\x1f{_SUBJECT.value}\x1f"


def _id_prefix(source_id: str) -> str:
    return f"loss\x1f{source_id}{_ID_AFTER_SOURCE}"


def _id_tail(category: Category) -> bytes:
    return f"{category.value}\x1f{_measure(category) or ''}\x1f".encode()


def _fast_event_id(source_id: str, category: Category, span_start: int) -> str:
    """`loss_event_id` for a report line, written the way `parse_report` computes it."""
    hasher = hashlib.blake2b(_id_prefix(source_id).encode(), digest_size=16)
    hasher.update(_id_tail(category) + b"%d" % span_start)
    return hasher.hexdigest()


# If the contract's recipe ever stops matching, parse_report falls back to
# `loss_event_id` itself, so ids can never silently diverge.
_FAST_IDS_AGREE = all(
    _fast_event_id("probe-é", category, 7)
    == loss_event_id("probe-é", _CLAIMANT, _SUBJECT, category, _measure(category), 7)
    for category in Category
)


class _Prefix(NamedTuple):
    """What the text before a line's figures says, with everything its events derive from
    it, so a known line costs one dict lookup."""

    label: str
    qualifier: Qualifier
    match: LabelMatch | None
    category: Category
    event_label: str  # bounded to LossEvent.label's length
    measure: Measure | None
    id_tail: bytes


# The text before a line's figures repeats from day to day ("tanks ‒ "); reading it once
# saves most of a line's cost. Bounded so hostile input cannot grow it without limit.
_PREFIX_CACHE: dict[str, _Prefix] = {}
_PREFIX_CACHE_SIZE: Final = 4096
_PREFIX_CACHE_KEY_CHARS: Final = 120


def _read_prefix(prefix: str) -> _Prefix:
    cached = _PREFIX_CACHE.get(prefix)
    if cached is not None:
        return cached
    label, qualifier = numbers.split_qualifier(prefix)
    label = label.lstrip(_WHITESPACE)
    match = lookup_label(label) if label else None
    category = _OTHER if match is None else match.category
    result = _Prefix(
        label,
        qualifier,
        match,
        category,
        label[:_LABEL_MAX_CHARS],
        _measure(category),
        _id_tail(category),
    )
    if len(prefix) <= _PREFIX_CACHE_KEY_CHARS:
        if len(_PREFIX_CACHE) >= _PREFIX_CACHE_SIZE:
            _PREFIX_CACHE.clear()
        _PREFIX_CACHE[prefix] = result
    return result


def _later_delta(line: str, position: int) -> tuple[int | None, int] | None:
    """A delta written after words ("осіб ліквідовано (+5)"): the first "(±N)" before any
    other number. Returns (delta, where the rest begins), (None, position) when there is
    none, None when it is out of range."""
    while True:
        nxt = numbers.NEXT_FIGURE.search(line, position)
        if nxt is None or line[nxt.start()] != "(":
            return None, position
        matched = numbers.DELTA.match(line, nxt.start())
        if matched is not None:
            delta = numbers.read_delta(matched)
            return None if delta is None else (delta, matched.end())
        position = nxt.start() + 1


def _script_style(text: str) -> str:
    """Ukrainian when more of its words are Cyrillic than Latin."""
    if _CYRILLIC.search(text) is None:
        return OFFICIAL_EN
    if _LATIN.search(text) is None:
        return OFFICIAL_UK
    cyrillic = len(_CYRILLIC.findall(text))
    return OFFICIAL_UK if cyrillic > len(_LATIN.findall(text)) else OFFICIAL_EN


# A header's words around its dates repeat every day; its wording is read once per phrasing.
_HEADER_STYLES: dict[str, str] = {}
_HEADER_STYLES_SIZE: Final = 1024
_HEADER_STYLE_KEY_CHARS: Final = 300


def _read_header(line: str, published: date) -> _Header | None:
    """The period's end date of a header ("from 24.02 to 12.04", "з 24.02.22 по 02.10.23")
    or a bare date line (the aggregator's "25.03.2023"), and the wording it is written in."""
    # The aggregator's header is the date alone: one match, and nothing around it to search.
    first = last = numbers.DAY_MONTH.fullmatch(line)
    if first is None:
        dates = 0
        for match in numbers.DAY_MONTH.finditer(line):
            start = match.start()
            if start and "0" <= line[start - 1] <= "9":
                continue  # inside a longer number
            if first is None:
                first = match
            last = match
            dates += 1
            if dates == _HEADER_DATES:
                break
    if first is None or last is None:
        return None
    day, month, year = last.groups()  # one call, not one per group
    as_of = numbers.resolve_day_month(int(day), int(month), int(year) if year else None, published)
    words = line[: first.start()] + line[last.end() :]
    style = _HEADER_STYLES.get(words)
    if style is None:
        style = AGGREGATOR_UK if _LETTER.search(words) is None else _script_style(words)
        if len(words) <= _HEADER_STYLE_KEY_CHARS:
            if len(_HEADER_STYLES) >= _HEADER_STYLES_SIZE:
                _HEADER_STYLES.clear()
            _HEADER_STYLES[words] = style
    return _Header(as_of, style)


def _is_unknown_loss_line(prefix: str, label: str, tail: str) -> bool:
    """Whether a line with an unknown label still has the shape of a loss line, so that a new
    category is kept as `other` while prose and footers with numbers in them are not."""
    if not label or len(label) > _UNKNOWN_LABEL_MAX_CHARS:
        return False
    if len(label.split()) > _UNKNOWN_LABEL_MAX_WORDS or not any(ch.isalpha() for ch in label):
        return False
    if any(ch in _SENTENCE_MARKS for ch in label):
        return False
    label_start = len(prefix) - len(prefix.lstrip(_WHITESPACE))
    if not any(ch in _SEPARATORS for ch in prefix[label_start + len(label) :]):
        return False
    rest = tail.rstrip(_WHITESPACE + ".,;")
    return len(rest) <= _UNKNOWN_TAIL_MAX_CHARS and numbers.ANY_DIGIT.search(rest) is None


def _long_lines(text: str, limit: int, warnings: list[str]) -> list[tuple[int, int]]:
    """(start, end) of every line longer than `limit`, each reported as skipped."""
    found: list[tuple[int, int]] = []
    offset = 0
    for index, line in enumerate(text.split("\n")):
        if len(line) > limit:
            found.append((offset, offset + len(line)))
            warnings.append(f"line {index + 1} skipped: {len(line)} characters (limit {limit})")
        offset += len(line) + 1
    return found


def _inside(position: int, ranges: list[tuple[int, int]]) -> bool:
    at = bisect.bisect_right(ranges, (position, 1 << 62)) - 1
    return at >= 0 and ranges[at][0] <= position <= ranges[at][1]


def _has_surrogates(text: str) -> bool:
    """Whether text holds a lone surrogate (a producer decoded bytes with surrogateescape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _extra_figures_warning(label: str, tail: str) -> str:
    if "полон" in tail.lower() or "prisoner" in tail.lower():
        return f"{label!r}: prisoners-of-war figure not emitted (no category for it)"
    return f"{label!r}: figures after the first total and delta ignored"


def parse_report(
    doc: RawDocument, *, max_line_chars: int = 20_000, today: date | None = None
) -> ReportParse:
    """Read a General Staff report (or its republication) into LossEvents.

    Raises NotAReport when no loss line is found; never raises anything else. `today`
    (default: the system date) is what `as_of_in_future` is judged against; lines longer
    than `max_line_chars` are skipped with a warning."""
    source_id = doc.id
    try:
        id_prefix = _id_prefix(source_id).encode("utf-8")
    except UnicodeEncodeError:
        raise NotAReport("document id is not valid Unicode") from None
    text = doc.text
    warnings: list[str] = []
    long_lines = _long_lines(text, max_line_chars, warnings) if len(text) > max_line_chars else []
    has_surrogates = _has_surrogates(text)
    header: _Header | None = None
    header_tries = 0
    as_of = doc.published
    events: list[LossEvent] = []
    seen: set[Category] = set()
    id_base = hashlib.blake2b(id_prefix, digest_size=16)
    fast_ids = _FAST_IDS_AGREE
    new_object, prefix_cache, span_class, event_class = _new, _PREFIX_CACHE, TextSpan, LossEvent
    set_dict, set_fields_set, set_extra, set_private = (
        _SET_DICT,
        _SET_FIELDS_SET,
        _SET_EXTRA,
        _SET_PRIVATE,
    )
    template = _TEMPLATE.copy()
    template["source_id"] = source_id
    event_fields, span_fields = _EVENT_FIELDS_SET, _SPAN_FIELDS_SET

    for found in numbers.LOSS_LINE.finditer("\n" + text):
        whole_line, prefix, written_total, sign, written_delta, _tail, more = found.groups()
        line_start = found.start(_LINE) - 1  # offsets in text, not in "\n" + text
        if long_lines and _inside(line_start, long_lines):
            continue
        try:  # a subscript is cheaper than .get(), and a known prefix is the rule
            read = prefix_cache[prefix]
        except KeyError:
            read = _read_prefix(prefix)
        label, qualifier, match, category, event_label, measure, id_tail = read
        if not events and header is None and match is None and header_tries < _HEADER_LINES:
            header_tries += 1
            header = _read_header(whole_line, doc.published)
            if header is not None:
                continue
        if not label:
            continue
        line = whole_line.rstrip(_WHITESPACE)
        if has_surrogates and _has_surrogates(line):
            # An event must serialise; a line with a lone surrogate cannot.
            warnings.append(f"line at offset {line_start} skipped: not valid Unicode")
            continue
        # A figure is ASCII digits with separators between groups of three, so int() refuses
        # exactly the figures with separators: trying it costs less than asking isdigit()
        # first. A short figure is always within MAX_COUNT; read_count judges the rest.
        total: int | None = None
        if written_total is not None:
            try:
                total = (
                    int(written_total)
                    if len(written_total) <= _SHORT_NUMBER
                    else numbers.read_count(written_total)
                )
            except ValueError:
                total = numbers.read_count(written_total)
            if total is None:
                warnings.append(f"{label!r} skipped: total out of range")
                continue
        delta: int | None
        if written_delta is not None:
            tail_start = -1  # found only when needed: most lines never need it
            try:
                delta = (
                    int(written_delta)
                    if len(written_delta) <= _SHORT_NUMBER
                    else numbers.read_count(written_delta)
                )
            except ValueError:
                delta = numbers.read_count(written_delta)
            if delta is None:
                warnings.append(f"{label!r} skipped: delta out of range")
                continue
            if sign is not None and sign != "+":
                delta = -delta
        elif not more and match is not None:
            # No digit after the total, so no "(±N)" can follow it. (An unknown label still
            # goes through _later_delta: where it stops decides the tail that is judged.)
            tail_start = -1
            delta = None
        else:
            tail_start = found.start(_TAIL) - 1 - line_start
            later = _later_delta(line, tail_start)
            if later is None:
                warnings.append(f"{label!r} skipped: delta out of range")
                continue
            delta, tail_start = later
            if total is None and delta is None:
                continue
            more = "x" if numbers.ANY_DIGIT.search(line, tail_start) else ""
        if match is None:
            if tail_start < 0:
                tail_start = found.start(_TAIL) - 1 - line_start
            if not _is_unknown_loss_line(prefix, label, line[tail_start:]):
                continue

        if not events:  # the header, if any, lies behind us now
            if header is not None and header.as_of is not None:
                as_of = header.as_of
            else:
                reason = "no header date" if header is None else "header date is not a date"
                warnings.append(f"{reason}; as_of taken from the publication date {as_of}")
            template["as_of"] = as_of
            template["official"] = header is None or header.style != AGGREGATOR_UK
        quality: list[QualityFlag] = []
        if match is None:
            quality.append(QualityFlag.unknown_label)
            warnings.append(f"unknown label {label!r} kept as category other")
        else:
            if category in seen:
                warnings.append(f"category {category.value} appears more than once")
            seen.add(category)
        if total is None:
            quality.append(QualityFlag.delta_without_total)
        if more:
            if tail_start < 0:
                tail_start = found.start(_TAIL) - 1 - line_start
            warnings.append(_extra_figures_warning(label, line[tail_start:]))
        # Inlined on purpose: this runs once per line of every report.
        if fast_ids:
            hasher = id_base.copy()
            hasher.update(id_tail)  # two updates cost less than joining the bytes first
            hasher.update(
                _OFFSET_DIGITS[line_start] if line_start < _OFFSETS else b"%d" % line_start
            )
            event_id = hasher.hexdigest()
        else:
            event_id = loss_event_id(source_id, _CLAIMANT, _SUBJECT, category, measure, line_start)
        span = new_object(span_class)
        set_dict(span, {"start": line_start, "end": line_start + len(line), "text": line})
        set_fields_set(span, span_fields)
        set_extra(span, None)
        set_private(span, None)
        values = template.copy()
        values["event_id"] = event_id
        values["category"] = category
        values["label"] = event_label
        values["total"] = total
        values["delta"] = delta
        if qualifier is not _EXACT:  # the template's value otherwise
            values["qualifier"] = qualifier
        if measure is not None:
            values["measure"] = measure
        values["span"] = span
        values["quality"] = quality
        event = new_object(event_class)
        set_dict(event, values)
        set_fields_set(event, event_fields)
        set_extra(event, None)
        set_private(event, None)
        events.append(event)

    if not seen:
        raise NotAReport("no loss lines found")
    style = header.style if header is not None else _style_from_labels(events)
    if header is None and style == AGGREGATOR_UK:
        events = [event.model_copy(update={"official": False}) for event in events]
    present = seen if len(seen) == len(events) else {event.category for event in events}
    day = today if today is not None else date.today()
    if document_in_doubt(as_of, day, present):
        checked, check_warnings = check_document(events, as_of=as_of, today=day, categories=present)
        events = checked
        warnings.extend(check_warnings)
    return ReportParse(tuple(events), tuple(warnings), style, as_of)


def _style_from_labels(events: list[LossEvent]) -> str:
    """Without a header, the wording its labels are known from decides."""
    matches = [lookup_label(event.label or "") for event in events]
    aggregator_only = sum(1 for m in matches if m is not None and m.wordings == {AGGREGATOR_UK})
    official_only = sum(1 for m in matches if m is not None and AGGREGATOR_UK not in m.wordings)
    if aggregator_only > official_only:
        return AGGREGATOR_UK
    return _script_style("".join(event.label or "" for event in events))
