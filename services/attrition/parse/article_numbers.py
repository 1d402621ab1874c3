"""The figures in a sentence: their values ("121,480", "1.2 million", "two", "a dozen"), the
ranges they form, and why a number is not a loss figure at all (a model designation, a date,
a year, a unit's size, a period, a percentage)."""

from __future__ import annotations

import re
from typing import Final

from attrition.parse.article_dates import DateMention
from attrition.parse.article_sentences import Sentence
from attrition.parse.article_vocabulary import (
    AFTER_NOT_A_CLAIM_RE,
    BEFORE_NOT_A_CLAIM_RE,
    CATEGORY_RE,
    SMALL_NUMBER_WORDS,
)

MAX_COUNT: Final = 10**12
_RANGE_JOIN_RE: Final = re.compile(r"\s*(?:–|—|-|to|and)\s*")
_BETWEEN_BEFORE_RE: Final = re.compile(r"\b(?:between|from)\s+$", re.IGNORECASE)
_SPACES_RE: Final = re.compile(r"\s+")


def not_a_claim(
    text: str,
    s: Sentence,
    token: re.Match[str],
    dates: list[DateMention],
    periods: list[tuple[int, int, int]],
) -> str | None:
    start, end = token.start(), token.end()
    if any(d.start <= start < d.end for d in dates):
        return "date"
    if any(p_start <= start < p_end for p_start, p_end, _ in periods):
        return "period"
    if token.group("model"):
        return "model number"
    if token.group("uncounted"):
        return "uncounted"
    after = AFTER_NOT_A_CLAIM_RE.match(text, end, min(s.end, end + 16))
    if after and after.lastgroup:
        return after.lastgroup.replace("_", " ")
    before = BEFORE_NOT_A_CLAIM_RE.search(text[max(s.start, start - 30) : start])
    if before and before.lastgroup:
        return before.lastgroup.replace("_", " ")
    digits = token.group("digits")
    if digits is not None:
        if "." in digits and not token.group("multiplier"):
            return "decimal"
        if len(digits) == 4 and digits.isdigit() and 1900 <= int(digits) <= 2100:
            following = CATEGORY_RE.match(text, skip_spaces(text, end, s.end), s.end)
            if following is None:
                return "year"
    if number_value(token) > MAX_COUNT:
        return "too large"
    return None


def skip_spaces(text: str, pos: int, end: int) -> int:
    m = _SPACES_RE.match(text, pos, end)
    return m.end() if m else pos


def number_value(token: re.Match[str]) -> int:
    digits = token.group("digits")
    if digits is None:
        word = token.group("word").lower()
        head, _, tail = word.partition("-")
        return SMALL_NUMBER_WORDS.get(head, 0) + SMALL_NUMBER_WORDS.get(tail, 0)
    plain = "".join(ch for ch in digits if ch.isdigit() or ch == ".")
    multiplier = (token.group("multiplier") or "").strip().lower()
    scale = {"million": 1_000_000, "thousand": 1_000}.get(multiplier, 1)
    if len(plain) > 15:
        return MAX_COUNT + 1
    return round(float(plain) * scale) if "." in plain else int(plain) * scale


def range_end(text: str, tokens: list[re.Match[str]], i: int, low: int) -> re.Match[str] | None:
    """The upper figure of "150,000–190,000", "150,000 to 190,000" or "between 175,000 and
    200,000"; "and" joins a range only after "between"."""
    if i + 1 >= len(tokens) or tokens[i].group("digits") is None:
        return None
    nxt = tokens[i + 1]
    if nxt.group("digits") is None:
        return None
    join = _RANGE_JOIN_RE.fullmatch(text, tokens[i].end(), nxt.start())
    if join is None:
        return None
    connector = join.group(0).strip().lower()
    between = _BETWEEN_BEFORE_RE.search(text[max(0, tokens[i].start() - 10) : tokens[i].start()])
    if connector == "and" and (between is None or between.group(0).lower().startswith("from")):
        return None
    if connector == "to" and between is not None and between.group(0).lower().startswith("from"):
        return None
    return nxt if number_value(nxt) > low else None


def starts_a_change(text: str, tokens: list[re.Match[str]], i: int) -> bool:
    """ "rose from 120,760 to 121,480": the first figure is yesterday's, not a claim."""
    if i + 1 >= len(tokens) or tokens[i + 1].group("digits") is None:
        return False
    before = _BETWEEN_BEFORE_RE.search(text[max(0, tokens[i].start() - 10) : tokens[i].start()])
    join = _RANGE_JOIN_RE.fullmatch(text, tokens[i].end(), tokens[i + 1].start())
    return (
        before is not None
        and before.group(0).lower().startswith("from")
        and join is not None
        and join.group(0).strip().lower() == "to"
    )
