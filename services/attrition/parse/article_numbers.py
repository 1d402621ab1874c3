"""The figures in a sentence: their values ("121,480", "1.2 million", "two", "a dozen"), the
ranges they form, and why a number is not a loss figure at all (a model designation, a date,
a year, a unit's size, a period, a percentage)."""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import itemgetter
from typing import Final, Literal, NamedTuple

from attrition.parse.article_dates import DateMention
from attrition.parse.article_sentences import Sentence
from attrition.parse.article_vocabulary import (
    AFTER_NOT_A_CLAIM_RE,
    BEFORE_NOT_A_CLAIM_ENDINGS,
    BEFORE_NOT_A_CLAIM_RE,
    DIGITS_RE,
    MULTIPLIER_RE,
    NUMBER_WORD_RE,
    SMALL_NUMBER_WORDS,
    UNCOUNTED,
    WELL_FORMED_RE,
    search_before,
)

MAX_COUNT: Final = 10**12
_RANGE_JOIN_RE: Final = re.compile(r"\s*(?:–|—|-|to|and)\s*")
_BETWEEN_BEFORE_RE: Final = re.compile(r"\b(?:between|from)\s+$")
_SCALES: Final = {"million": 1_000_000, "thousand": 1_000}

TokenKind = Literal["digits", "model", "word", "uncounted", "malformed"]


class Token(NamedTuple):  # a tuple: built for every figure, 4x cheaper than a dataclass
    """A figure-like stretch of the text; offsets are into the document text."""

    start: int
    end: int
    kind: TokenKind
    value: int

    @property
    def countable(self) -> bool:
        return self.kind in ("digits", "word")


# Token.start as a C-level key: sorting a sentence's tokens calls no Python function.
_TOKEN_START: Final = itemgetter(0)


def _number_word_keys() -> tuple[str, ...]:
    """One word every NUMBER_WORD_RE match holds whole: the first of a single or hyphenated
    word, the noun of "a dozen", "a pair of", the first of "tens of thousands"."""
    keys = {w.split()[1] if w.startswith("a ") else w.split()[0] for w in SMALL_NUMBER_WORDS}
    return tuple(sorted(keys | {w.split()[0] for w in UNCOUNTED}))


_NUMBER_WORD_KEYS: Final = _number_word_keys()
_NUMBER_WORD_KEY_BYTES: Final = tuple((key, key.encode()) for key in _NUMBER_WORD_KEYS)
# Every byte but a-z becomes a space, so splitting what is left gives the runs of a-z letters
# (a non-ASCII character's UTF-8 bytes are all above 127: they separate runs too).
_A_TO_Z_RUNS: Final = bytes(b if 97 <= b <= 122 else 32 for b in range(256))


class NumberWordHints:
    """Which sentences may hold a number word, so `find_tokens` scans only those for them:
    that scan tries a long alternation at every word boundary. A match holds one of
    `_NUMBER_WORD_KEYS` as a whole word (no letter, digit or "_" before it, no letter after);
    the keys are looked for once in the whole text, and per sentence only those present.
    Sentence bounds lie between words (never between two letters), which this relies on."""

    __slots__ = ("_keys", "_low")

    def __init__(self, low: str) -> None:
        self._low = low
        # A key as a whole word is a whole run of a-z letters: the text's runs are found in
        # one pass in C (encode, translate, split), where a search of the text for each key
        # costs half again as much; and a key found only inside longer words ("one" in
        # "someone") is no longer searched for sentence by sentence.
        runs = set(low.encode("utf-8", "surrogatepass").translate(_A_TO_Z_RUNS).split())
        self._keys = tuple(key for key, encoded in _NUMBER_WORD_KEY_BYTES if encoded in runs)

    def may_have_number_words(self, start: int, end: int) -> bool:
        low = self._low
        for key in self._keys:
            at = low.find(key, start, end)
            while at >= 0:
                after = at + len(key)
                if (at == start or not _is_word_char(low[at - 1])) and (
                    after >= end or not ("a" <= low[after] <= "z")
                ):
                    return True
                at = low.find(key, at + 1, end)
        return False


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _digits_value(digits: str, scale: int) -> int:
    # Most figures are plain digits ("720"): nothing to drop.
    plain = (
        digits if digits.isdecimal() else "".join(ch for ch in digits if ch.isdigit() or ch == ".")
    )
    if len(plain) > 15:
        return MAX_COUNT + 1
    return round(float(plain) * scale) if "." in plain else int(plain) * scale


def find_tokens(
    text: str, low: str, start: int, end: int, *, number_words: bool = True
) -> list[Token]:
    """Every figure-like token in text[start:end], in order. `low` is the lower-cased text.
    `number_words=False` skips looking for number words (`NumberWordHints` says none can be
    there)."""
    tokens: list[Token] = []
    covered = start
    for m in DIGITS_RE.finditer(text, start, end):
        ds, de = m.span()
        if ds < covered:
            continue
        before = text[ds - 1] if ds > start else " "
        attached = (
            before.isalpha()
            or before in "_.,"
            or (before == "-" and ds - 2 >= start and text[ds - 2].isalpha())
        )
        if attached:
            # "M142", "T-72B3", "Su-25s": a designation, read whole so it is reported whole.
            ms = ds
            while ms > start and (text[ms - 1].isalnum() or text[ms - 1] in "-."):
                ms -= 1
            me = de
            while me < end and (text[me].isalnum() or text[me] == "-"):
                me += 1
            tokens.append(Token(ms, me, "model", 0))
            covered = me
            continue
        digits = m.group(0)
        if WELL_FORMED_RE.fullmatch(digits) is None:
            tokens.append(Token(ds, de, "malformed", 0))
            covered = de
            continue
        multiplier = MULTIPLIER_RE.match(text, de, min(end, de + 12))
        scale = _SCALES[multiplier.group(1).lower()] if multiplier else 1
        if "." in digits and multiplier is None and "," not in digits:
            tokens.append(Token(ds, de, "malformed", 0))
        else:
            te = multiplier.end() if multiplier else de
            tokens.append(Token(ds, te, "digits", _digits_value(digits, scale)))
            de = te
        covered = de
    for w in NUMBER_WORD_RE.finditer(low, start, end) if number_words else ():
        if w.group("uncounted"):
            tokens.append(Token(w.start(), w.end(), "uncounted", 0))
            continue
        head, _, tail = w.group("word").partition("-")
        value = SMALL_NUMBER_WORDS.get(head, 0) + SMALL_NUMBER_WORDS.get(tail, 0)
        tokens.append(Token(w.start(), w.end(), "word", value))
    if len(tokens) > 1:
        tokens.sort(key=_TOKEN_START)
    return tokens


def not_a_claim(
    text: str,
    low: str,
    s: Sentence,
    token: Token,
    dates: list[DateMention],
    periods: list[tuple[int, int, int]],
    category_follows: Callable[[int], bool],
) -> str | None:
    """Why a token is not a loss figure, or None when it may be one."""
    start, end = token.start, token.end
    if any(d.start <= start < d.end for d in dates):
        return "date"
    if any(p_start <= start < p_end for p_start, p_end, _ in periods):
        return "period"
    if token.kind == "model":
        return "model number"
    if token.kind == "uncounted":
        return "uncounted"
    if token.kind == "malformed":
        return "not a count"
    after = AFTER_NOT_A_CLAIM_RE.match(low, end, min(s.end, end + 16))
    if after and after.lastgroup:
        return after.lastgroup.replace("_", " ")
    before = search_before(
        BEFORE_NOT_A_CLAIM_RE, BEFORE_NOT_A_CLAIM_ENDINGS, low[max(s.start, start - 30) : start]
    )
    if before and before.lastgroup:
        return before.lastgroup.replace("_", " ")
    digits = text[start:end]
    if (
        token.kind == "digits"
        and len(digits) == 4
        and 1900 <= token.value <= 2100
        and not category_follows(end)
    ):
        return "year"
    if token.value > MAX_COUNT:
        return "too large"
    return None


Joined = tuple[str, str] | None


def joined(text: str, low: str, tokens: list[Token], i: int) -> Joined:
    """How tokens[i] and tokens[i+1] are joined ("to", "and", a dash) and the word before
    tokens[i] ("between", "from"), when both are digit figures. Found once per figure: both
    `starts_a_change` and `range_end` judge it."""
    if i + 1 >= len(tokens) or tokens[i].kind != "digits" or tokens[i + 1].kind != "digits":
        return None
    join = _RANGE_JOIN_RE.fullmatch(low, tokens[i].end, tokens[i + 1].start)
    if join is None:
        return None
    before = _BETWEEN_BEFORE_RE.search(low[max(0, tokens[i].start - 10) : tokens[i].start])
    return join.group(0).strip(), before.group(0).split()[0] if before else ""


def range_end(tokens: list[Token], i: int, join: Joined) -> Token | None:
    """The upper figure of "150,000–190,000", "150,000 to 190,000" or "between 175,000 and
    200,000"; "and" joins a range only after "between", "to" never after "from". `join` is
    `joined(text, low, tokens, i)`."""
    if join is None:
        return None
    connector, before = join
    if connector == "and" and before != "between":
        return None
    if connector == "to" and before == "from":
        return None
    nxt = tokens[i + 1]
    # An upper end beyond any count is no range: the same bound as a lone figure.
    return nxt if tokens[i].value < nxt.value <= MAX_COUNT else None


def starts_a_change(join: Joined) -> bool:
    """ "rose from 120,760 to 121,480": the first figure is the old one, not a claim. `join` is
    `joined(text, low, tokens, i)`."""
    return join == ("to", "from")
