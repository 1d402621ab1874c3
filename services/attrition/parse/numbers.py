"""Reading the numeric parts of a report line: counts with thousands separators, signed daily
changes in parentheses, the words that qualify a count ("about", "понад", "до"), and the
day.month[.year] dates of report headers.

Every pattern here is linear: no nested quantifiers and only bounded runs of spaces, so an
adversarial line cannot make a match backtrack.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final

from attrition.contracts.vocabulary import Qualifier

MAX_COUNT: Final = 10**12  # the contracts' bound on a figure
_MAX_DIGITS: Final = 13  # more digits than this cannot be a figure within MAX_COUNT

# Thousands separators seen once totals passed 1,000,000: comma, space, no-break space,
# narrow no-break space (U+202F) and thin space (U+2009).
_SEPARATORS: Final = ", \u00a0\u202f\u2009"
# Digits, then groups of exactly three after a separator: "40830", "1 121 480", "1,234".
_NUMBER: Final = rf"[0-9]++(?:[{_SEPARATORS}][0-9]{{3}}(?![0-9]))*+"
_DROP_SEPARATORS: Final = {ord(ch): None for ch in _SEPARATORS}
_SPACE: Final = "[ \t\u00a0\u202f\u2009]{0,3}"
DASHES: Final = "‒–—―−-"

COUNT: Final = re.compile(_NUMBER)
DELTA: Final = re.compile(
    rf"\({_SPACE}(?P<sign>[+{DASHES}])?{_SPACE}(?P<number>{_NUMBER}){_SPACE}\)"
)
# Where the figures of a line begin: its first digit, or a "(+N)" with no total before it.
FIGURES_START: Final = re.compile(rf"[0-9]|\((?={_SPACE}[+{DASHES}]?{_SPACE}[0-9])")
WHITESPACE: Final = " \t\r\u00a0\u202f\u2009\ufeff"
_FIGURE_AHEAD: Final = rf"[0-9]|\({_SPACE}[+{DASHES}]?{_SPACE}[0-9]"
# One loss line, found by `finditer` over "\n" + text (the literal "\n" lets the regex engine
# jump from line to line instead of trying every character): the text before its figures
# (no digit and no "(±N" in it), then "total [unit] (±delta)", then the rest of the line.
# `line` is all of it but the leading whitespace (the match hands it over without a slice).
# `tail` is empty and marks where that rest begins; `more` is its first digit, if any (so
# non-empty when more figures follow): neither copies text the parser does not read.
# Possessive quantifiers keep a line that does not match from being re-scanned. The optional
# parts are written `(?:…|)`, not `(?:…)?`: the same alternatives in the same order, but a
# branch, which the engine runs a quarter faster than a repeat of 0 to 1 around a group.
LOSS_LINE: Final = re.compile(
    rf"\n[{WHITESPACE}]*+(?P<line>"
    rf"(?P<prefix>[^\n0-9(]*+(?:\((?!{_SPACE}[+{DASHES}]?{_SPACE}[0-9])[^\n0-9(]*+)*+)"
    rf"(?={_FIGURE_AHEAD})"
    rf"(?:(?P<total>{_NUMBER})|){_SPACE}(?:[^\W\d_]{{1,12}}\.?{_SPACE}|)"
    rf"(?:\({_SPACE}(?:(?P<sign>[+{DASHES}])|){_SPACE}(?P<number>{_NUMBER}){_SPACE}\)|)"
    r"(?P<tail>)[^\n0-9]*+(?P<more>[0-9]?)[^\n]*+)"
)
# Group numbers for Match.start(): where a line's text begins, and where its tail does.
LOSS_LINE_START: Final = LOSS_LINE.groupindex["line"]
LOSS_LINE_TAIL: Final = LOSS_LINE.groupindex["tail"]
NEXT_FIGURE: Final = re.compile(r"[0-9(]")
ANY_DIGIT: Final = re.compile(r"[0-9]")
# dd.mm[.yy[yy]]; the caller checks the character before it (a lookbehind here would be
# tried at every position of the line). "[0-9][0-9]?" rather than "[0-9]{1,2}": a pattern
# that opens with a character set lets the engine skip to the next digit in C.
DAY_MONTH: Final = re.compile(r"([0-9][0-9]?)\.([0-9][0-9]?)(?:\.([0-9]{4}|[0-9]{2}))?(?![0-9])")

# Longest phrases first: "more than" must win over a bare "than"-less match.
QUALIFIER_WORDS: Final[tuple[tuple[str, Qualifier], ...]] = (
    ("not less than", Qualifier.at_least),
    ("не менше ніж", Qualifier.at_least),
    ("не менше", Qualifier.at_least),
    ("at least", Qualifier.at_least),
    ("щонайменше", Qualifier.at_least),
    ("more than", Qualifier.more_than),
    ("over", Qualifier.more_than),
    ("понад", Qualifier.more_than),
    ("більше ніж", Qualifier.more_than),
    ("більше", Qualifier.more_than),
    ("более", Qualifier.more_than),
    ("свыше", Qualifier.more_than),
    ("up to", Qualifier.up_to),
    ("до", Qualifier.up_to),
    ("approximately", Qualifier.about),
    ("about", Qualifier.about),
    ("around", Qualifier.about),
    ("близько", Qualifier.about),
    ("приблизно", Qualifier.about),
    ("орієнтовно", Qualifier.about),
    ("около", Qualifier.about),
    ("порядка", Qualifier.about),
)
_STRIP: Final = WHITESPACE + ":" + DASHES


def read_count(text: str) -> int | None:
    """The value of a matched number ("1 234 567", "1,234"), or None when it exceeds
    MAX_COUNT (a thousand-digit string is refused before int() ever sees it)."""
    digits = text if text.isascii() and text.isdigit() else text.translate(_DROP_SEPARATORS)
    if len(digits) > _MAX_DIGITS:
        return None
    value = int(digits)
    return value if value <= MAX_COUNT else None


def read_delta(match: re.Match[str]) -> int | None:
    """The signed change of a DELTA or FIGURES match ("(+720)", "(‒5)"), or None when out of
    range."""
    value = read_count(match.group("number"))
    if value is None:
        return None
    sign = match.group("sign")
    return -value if sign is not None and sign != "+" else value


def split_qualifier(prefix: str) -> tuple[str, Qualifier]:
    """Split "personnel ‒ about" into ("personnel", about); the label keeps its own words.

    A qualifier counts only as a whole word, so "Гармати" never loses a trailing "до"-like
    syllable: the character before it must not be a letter."""
    text = prefix.rstrip(_STRIP)
    lowered = text.lower()
    for phrase, qualifier in QUALIFIER_WORDS:
        if lowered.endswith(phrase):
            cut = len(text) - len(phrase)
            if cut == 0 or not text[cut - 1].isalnum():
                return text[:cut].rstrip(_STRIP), qualifier
    return text, Qualifier.exact


def strip_label(label: str) -> str:
    return label.strip(_STRIP)


_HALF_YEAR: Final = timedelta(days=182)


def resolve_day_month(day: int, month: int, year: int | None, near: date) -> date | None:
    """The date a header's "dd.mm[.yy]" means. Without a year it is the one nearest to
    `near` (the publication date), so "31.12" published on 1 January is last year's."""
    if year is not None:
        full_year = year + 2000 if year < 100 else year
        try:
            return date(full_year, month, day)
        except ValueError:
            return None
    try:
        guess = date(near.year, month, day)
    except ValueError:
        guess = None  # 29.02 in a common year: only a neighbouring year can hold it
    if guess is not None and abs(guess - near) <= _HALF_YEAR:
        return guess
    best: date | None = None
    for candidate_year in (near.year - 1, near.year, near.year + 1):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if best is None or abs(candidate - near) < abs(best - near):
            best = candidate
    return best


def days_between(earlier: date, later: date) -> int:
    return (later - earlier) // timedelta(days=1)
