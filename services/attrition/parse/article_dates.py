"""Dates as articles write them ("released Monday", "Jan. 23", "the previous day"), resolved
against the publication date and the running anchor: the last date the text has mentioned."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final, NamedTuple

WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY_ALT = "|".join(WEEKDAYS)
_MONTHS: Final[dict[str, int]] = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
# Capitalised only: "may" the verb and "march" the verb are not months.
_MONTH = (
    r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?"
    r"|Aug(?:ust|\.)?|Sept?(?:ember|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
)

DATE_RE: Final = re.compile(
    rf"\bbetween (?P<between_first>{_WEEKDAY_ALT}) and (?P<between_second>{_WEEKDAY_ALT})\b"
    rf"|\b(?P<md_month>{_MONTH}) ?(?P<md_day>\d{{1,2}})(?:st|nd|rd|th)?\b"
    r"(?:,? (?P<md_year>\d{4})\b)?"
    rf"|\b(?P<dm_day>\d{{1,2}})(?:st|nd|rd|th)? (?:of )?(?P<dm_month>{_MONTH})"
    r"(?: (?P<dm_year>\d{4})\b)?"
    r"|\b(?P<iso_year>\d{4})-(?P<iso_month>\d{2})-(?P<iso_day>\d{2})\b"
    r"|\b(?P<dot_day>\d{1,2})\.(?P<dot_month>\d{1,2})\.(?P<dot_year>\d{4})\b"
    rf"|\b(?P<weekday>{_WEEKDAY_ALT})\b"
    r"|\b(?P<yesterday>(?i:yesterday))\b"
    r"|\b(?P<today>(?i:today))\b"
    r"|\b(?P<previous>(?i:the (?:previous|preceding|prior) day|the day before|a day earlier))\b"
    r"|\b(?P<next>(?i:the (?:next|following) day|a day later))\b"
)
# Every date form starts with one of these:
#   \b(?:\d+|between |Jan|...|Dec|Monday|...|Sunday|(?i:yesterday|today|the previous day|...))
# Finding them first and trying the full pattern only there is several times cheaper than
# letting the full pattern scan every position. They are found by two patterns, each opening
# with what lets the engine skip in C to the next candidate character rather than try every
# position: digits, then one alternative per first letter (both cases spelled out where the
# form ignores case), each checking the word boundary just after that letter. A head of one
# kind never overlaps one of the other, so the two in order of position are the same heads.
_DIGITS_HEAD_RE: Final = re.compile(r"\d(?<!\w\d)\d*")
_THE_DAY = r"(?i:oday|he (?:previous|preceding|prior|next|following) day|he day before)"
_A_DAY = r"(?i: day (?:earlier|later))"
_WORD_HEAD_RE: Final = re.compile(
    r"b(?<!\wb)etween |J(?<!\wJ)(?:an|un|ul)|F(?<!\wF)(?:eb|riday)|M(?<!\wM)(?:ar|ay|onday)"
    rf"|A(?<!\wA)(?:pr|ug|{_A_DAY})|S(?<!\wS)(?:ep|aturday|unday)|O(?<!\wO)ct|N(?<!\wN)ov"
    rf"|D(?<!\wD)ec|T(?<!\wT)(?:uesday|hursday|{_THE_DAY})|W(?<!\wW)ednesday"
    rf"|y(?<!\wy)(?i:esterday)|Y(?<!\wY)(?i:esterday)|t(?<!\wt){_THE_DAY}|a(?<!\wa){_A_DAY}"
)
_HEAD_START: Final = re.Match.start


def date_heads(text: str, start: int, end: int) -> list[re.Match[str]]:
    """Where a date may start in text[start:end], in order (see `_WORD_HEAD_RE`)."""
    heads = list(_WORD_HEAD_RE.finditer(text, start, end))
    digits = list(_DIGITS_HEAD_RE.finditer(text, start, end))
    if digits:
        heads += digits
        heads.sort(key=_HEAD_START)
    return heads


_AS_OF_BEFORE_RE: Final = re.compile(r"\b(?:as of|as at|as on)\s+(?:the\s+)?$", re.IGNORECASE)
_SINCE_BEFORE_RE: Final = re.compile(
    r"\b(?:since|began|begun|started|starting|beginning)\s+(?:on\s+)?(?:the\s+)?$",
    re.IGNORECASE,
)


# Digits belong to a date only beside a month or "day", or as "2023-01-23" or "23.01.2023".
_NUMERIC_DATE_HINT_RE: Final = re.compile(r"\d[-.]\d")
_NUMERIC_DASH_RE: Final = re.compile(r"-(?<=\d-)\d")
_NUMERIC_DOT_RE: Final = re.compile(r"\.(?<=\d\.)\d")
_MONTH_HEADS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
# The month heads present, found in one pass: each opens with a capital, which the engine
# skips to in C, where a search per head would scan the whole text twelve times. No head can
# overlap another (a capital never follows inside one), so every one present is found.
_MONTH_HEAD_RE: Final = re.compile("|".join(_MONTH_HEADS))


class DateHints:
    """Which sentences may hold a date, so `find_dates` runs only on those: scanning every
    position for a date's head costs more than all other date work. Every date form holds a
    capitalised month, "day" in any case (weekdays, "yesterday", "the previous day",
    "between Sunday and Monday"), or digits joined by "-" or "."; the words are looked for
    once in the whole text, and per sentence only those present."""

    __slots__ = ("_day", "_low", "_months", "_numeric", "_text")

    def __init__(self, text: str, low: str) -> None:
        self._text = text
        self._low = low
        present = set(_MONTH_HEAD_RE.findall(text))
        self._months = tuple(m for m in _MONTH_HEADS if m in present)
        # Neither "d", "a" nor "y" has a second case folding, so the lower-cased text finds
        # every "day" the pattern's case-insensitive forms can match.
        self._day = "day" in low
        # Looked for in the whole text once, from its "-" and "." (a literal first character
        # lets the engine jump between them): most articles have no such digits at all.
        self._numeric = (
            _NUMERIC_DASH_RE.search(text) is not None or _NUMERIC_DOT_RE.search(text) is not None
        )

    def may_have_dates(self, start: int, end: int) -> bool:
        if self._day and self._low.find("day", start, end) >= 0:
            return True
        if any(self._text.find(month, start, end) >= 0 for month in self._months):
            return True
        return self._numeric and _NUMERIC_DATE_HINT_RE.search(self._text, start, end) is not None


class DateMention(NamedTuple):  # a tuple: 4x cheaper to build than a dataclass
    """A date the text names; offsets are into the document text."""

    start: int
    end: int
    day: date
    # "as of Jan. 22" names the figure's own date, which outranks any other mention.
    as_of_marked: bool
    # Days a "between Sunday and Monday" spans; None for a single day.
    span_days: int | None = None
    # "since Feb. 24" starts a period; it is never the date a figure describes.
    starts_period: bool = False


def _shift(day: date, days: int) -> date | None:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _without_year(month: int, day: int, published: date) -> date | None:
    """An article's "Jan. 23" is the most recent Jan. 23 on or before publication."""
    found = _make(published.year, month, day)
    if found is not None and found > published:
        found = _make(published.year - 1, month, day) if published.year > 1 else None
    return found


def most_recent_weekday(name: str, published: date) -> date | None:
    """News copy names a weekday for the most recent such day on or before publication."""
    back = (published.weekday() - WEEKDAYS.index(name)) % 7
    return _shift(published, -back)


def _month_number(token: str) -> int:
    return _MONTHS[token[:3].lower()]


def _resolve(
    m: re.Match[str], published: date, anchor: date | None
) -> tuple[date | None, int | None]:
    if m.group("between_second"):
        second = most_recent_weekday(m.group("between_second"), published)
        first = most_recent_weekday(m.group("between_first"), published)
        if second is None or first is None:
            return second, None
        gap = (second - first).days % 7 or 7
        return second, gap
    if m.group("md_month"):
        month, day, year = (
            _month_number(m.group("md_month")),
            int(m.group("md_day")),
            m.group("md_year"),
        )
        return (
            _make(int(year), month, day) if year else _without_year(month, day, published)
        ), None
    if m.group("dm_month"):
        month, day, year = (
            _month_number(m.group("dm_month")),
            int(m.group("dm_day")),
            m.group("dm_year"),
        )
        return (
            _make(int(year), month, day) if year else _without_year(month, day, published)
        ), None
    if m.group("iso_year"):
        return _make(
            int(m.group("iso_year")), int(m.group("iso_month")), int(m.group("iso_day"))
        ), None
    if m.group("dot_year"):
        return _make(
            int(m.group("dot_year")), int(m.group("dot_month")), int(m.group("dot_day"))
        ), None
    if m.group("weekday"):
        return most_recent_weekday(m.group("weekday"), published), None
    if m.group("yesterday"):
        return _shift(published, -1), None
    if m.group("today"):
        return published, None
    base = anchor if anchor is not None else published
    if m.group("previous"):
        return _shift(base, -1), None
    return _shift(base, 1), None


def find_dates(
    text: str, start: int, end: int, published: date, anchor: date | None
) -> tuple[list[DateMention], date | None]:
    """The date mentions in text[start:end], in order, and the anchor after them.

    Relative mentions ("the previous day", "the next day") count from the anchor: the last
    date mentioned before them anywhere in the text, else the publication date."""
    mentions: list[DateMention] = []
    covered = start
    for head in date_heads(text, start, end):
        if head.start() < covered:
            continue
        m = DATE_RE.match(text, head.start(), end)
        if m is None:
            continue
        covered = m.end()
        day, span_days = _resolve(m, published, anchor)
        if day is None:
            continue
        before = text[max(start, m.start() - 16) : m.start()]
        marked = _AS_OF_BEFORE_RE.search(before) is not None
        since = _SINCE_BEFORE_RE.search(before) is not None
        mentions.append(DateMention(m.start(), m.end(), day, marked, span_days, since))
        if not since:
            anchor = day
    return mentions, anchor
