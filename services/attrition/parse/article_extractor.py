"""Attributed loss claims from news prose: every figure an article quotes, with who claims it,
whose losses it counts, what it counts, and for which day.

Precision comes first: a figure is taken only when a loss category names it; every other
number the text holds is listed in `ArticleParse.skipped` with the reason it was left out."""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate
from typing import Final, NamedTuple

from attrition.contracts import trusted
from attrition.contracts.events import LossEvent, RawDocument, loss_event_id
from attrition.contracts.vocabulary import (
    Category,
    Claimant,
    DocumentKind,
    Measure,
    Qualifier,
    QualityFlag,
    Subject,
)
from attrition.parse.article_attribution import Attribution, attribution_for, find_attributions
from attrition.parse.article_claims import (
    AsOfHow,
    Claim,
    Kind,
    SkippedNumber,
    confidence,
    drop_rounded,
    implausible,
    join_total_and_delta,
    merge_restatements,
    resolve_latest_dates,
    rounds_to,
)
from attrition.parse.article_dates import DateHints, DateMention, find_dates
from attrition.parse.article_numbers import (
    MAX_COUNT,
    NumberWordHints,
    Token,
    find_tokens,
    joined,
    not_a_claim,
    range_end,
    starts_a_change,
)
from attrition.parse.article_sentences import Sentence, clause_breaks, clause_of, split_sentences
from attrition.parse.article_vocabulary import (
    DESTRUCTION_RE,
    LOCATION_WORDS,
    NOT_A_CATEGORY,
    PERIOD_RE,
    QUALIFIER_BEFORE_ENDINGS,
    QUALIFIER_BEFORE_RE,
    QUALIFIERS,
    SIDE_OF,
    SINGULAR,
    SMALL_NUMBER_WORDS,
    TOTAL_MARKER_RE,
    TOTAL_MARKER_WORDS,
    category_at,
    personnel_measure,
    search_before,
)

__all__ = ["ArticleParse", "SkippedNumber", "check_against_reports", "extract_claims"]

# Every period phrase holds one of these; checking first spares most sentences the full pattern.
_PERIOD_TRIGGER_RE: Final = re.compile(r"day|hour|week|overnight")
# "u.s.-made", "anti-aircraft", "russia's" are one word each.
# Possessive: nothing after a word can make the engine give part of it back. Captured, so
# that `split` keeps the words.
_WORD_SPLIT_RE: Final = re.compile(r"([a-z0-9]++(?:['.-][a-z0-9]++|\.-[a-z0-9]++)*+)")
_CATEGORIES: Final = {c.value: c for c in Category}
_SUBJECTS: Final = {s.value: s for s in Subject}  # Subject(name) costs a microsecond
# Token kinds `not_a_claim` always gives a reason for.
_NEVER_A_CLAIM: Final = frozenset(
    ("model", "uncounted", "malformed")
)  # Category(name) costs microseconds


@dataclass(frozen=True, slots=True)
class ArticleParse:
    events: tuple[LossEvent, ...]
    skipped: tuple[SkippedNumber, ...]
    warnings: tuple[str, ...]


@dataclass(slots=True)
class _State:
    """What earlier sentences established: the running date anchor and the last claimant."""

    anchor: date | None = None
    claimant: Claimant | None = None
    claimant_date: date | None = None
    claimant_paragraph: int = -10
    claims: list[Claim] = field(default_factory=list)
    skipped: list[SkippedNumber] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def extract_claims(doc: RawDocument, *, max_line_chars: int = 20_000) -> ArticleParse:
    """Every loss claim the article states, as LossEvents. Never raises: an unexpected failure
    becomes a warning so one odd article cannot stop a stream."""
    try:
        return _extract(doc, max_line_chars)
    except Exception as error:  # the stream must survive any text
        return ArticleParse((), (), (f"article extractor failed: {type(error).__name__}: {error}",))


def _lower(text: str) -> str:
    """Lower-cased text with the same offsets (a few characters lower to two; those stay)."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
    return low.replace("’", "'")


def _extract(doc: RawDocument, max_line_chars: int) -> ArticleParse:
    text = doc.text
    low = _lower(text)
    state = _State()
    sentences = split_sentences(text, max_line_chars, state.warnings)
    number_words = NumberWordHints(low)
    tokens = [
        find_tokens(
            text,
            low,
            s.start,
            s.end,
            number_words=number_words.may_have_number_words(s.start, s.end),
        )
        for s in sentences
    ]
    # What a sentence after the last one with figures establishes (a date anchor, the last
    # claimant) is only ever consulted by figures read later: there are none, so its dates
    # and attributions are not looked for.
    last = max((i for i, found in enumerate(tokens) if found), default=-1)
    # Dates first: they depend on nothing but the dates before them (the running anchor).
    date_hints = DateHints(text, low)
    dates: list[list[DateMention]] = []
    for s in sentences[: last + 1]:
        found_dates: list[DateMention] = []
        if date_hints.may_have_dates(s.start, s.end):
            found_dates, state.anchor = find_dates(
                text, s.start, s.end, doc.published, state.anchor
            )
        dates.append(found_dates)
    # Likewise who speaks in a sentence matters only to figures read from it or later: past
    # the last figure that may be a claim (a count not inside a date) there is none, so the
    # figures left are skipped for what they are without looking for attributions.
    # Asked once a sentence: reading its figures asks it again.
    claimable = [_may_be_claimed(tokens[i], dates[i]) for i in range(last + 1)]
    last_claim = max((i for i in range(last + 1) if claimable[i]), default=-1)
    for i, (sentence, found) in enumerate(zip(sentences[: last + 1], tokens, strict=False)):
        _read_sentence(
            text,
            low,
            sentence,
            found,
            dates[i],
            state,
            attribute=i <= last_claim,
            claimable=claimable[i],
        )
    claims = resolve_latest_dates(state.claims, doc.published)
    claims = drop_rounded(claims, text, state.skipped)
    claims = merge_restatements(claims, text, state.skipped)
    claims = join_total_and_delta(claims)
    events = tuple(_event(doc, text, c, state.warnings) for c in claims)
    skipped = tuple(sorted(state.skipped, key=lambda s: s.start))
    return ArticleParse(events, skipped, tuple(state.warnings))


@dataclass(frozen=True, slots=True)
class _Words:
    """A sentence's words: offsets, the words as written (lower-case) and folded singular."""

    starts: list[int]
    ends: list[int]
    raw: list[str]
    norm: list[str]

    @classmethod
    def of(cls, low: str, s: Sentence) -> _Words:
        # One split of the sentence into separators and words (odd places), and the offsets
        # from the running sum of their lengths: no match object per word. This runs for
        # every word of every sentence with a figure. (No anchors or lookarounds in the
        # pattern, so splitting the slice finds what a search of the text between the
        # offsets finds.)
        pieces = _WORD_SPLIT_RE.split(low[s.start : s.end])
        offsets = list(accumulate(map(len, pieces), initial=s.start))
        raw = pieces[1::2]
        return cls(offsets[1:-1:2], offsets[2::2], raw, list(map(SINGULAR.__getitem__, raw)))

    def category(self, lo: int, hi: int, last: bool = False) -> tuple[int, int, str] | None:
        """The first (or last) category term lying within [lo, hi): (first word, words, name)."""
        found: tuple[int, int, str] | None = None
        i = bisect_left(self.starts, lo)
        while i < len(self.starts) and self.starts[i] < hi:
            hit = category_at(self.norm, i)
            if hit is not None and self.ends[i + hit[1] - 1] <= max(hi, self.ends[i]):
                found = (i, hit[1], hit[0])
                if not last:
                    return found
                i += hit[1]
                continue
            i += 1
        return found


def _in_a_date(token: Token, dates: list[DateMention]) -> bool:
    return any(d.start <= token.start < d.end for d in dates)


def _may_be_claimed(tokens: list[Token], dates: list[DateMention]) -> bool:
    """Whether any of a sentence's figures is one `not_a_claim` does not reject for its kind
    or for lying inside a date."""
    return any(t.kind not in _NEVER_A_CLAIM and not _in_a_date(t, dates) for t in tokens)


def _read_sentence(
    text: str,
    low: str,
    s: Sentence,
    tokens: list[Token],
    dates: list[DateMention],
    state: _State,
    *,
    attribute: bool,
    claimable: bool,
) -> None:
    """`claimable`: whether `_may_be_claimed(tokens, dates)`."""
    attributions = find_attributions(low, s.start, s.end, state.claimant) if attribute else []
    own_dates = [d for d in dates if not d.starts_period]
    if tokens:
        _read_figures(text, low, s, tokens, dates, own_dates, attributions, state, claimable)
    if attributions:
        last = attributions[-1]
        own = _sentence_date(own_dates)
        if own is not None or last.how != "anaphor" or last.claimant is not state.claimant:
            state.claimant_date = own
        state.claimant = last.claimant
        state.claimant_paragraph = s.paragraph


def _read_figures(
    text: str,
    low: str,
    s: Sentence,
    tokens: list[Token],
    dates: list[DateMention],
    own_dates: list[DateMention],
    attributions: list[Attribution],
    state: _State,
    claimable: bool,
) -> None:
    periods = (
        [(m.start(), m.end(), _period_days(m)) for m in PERIOD_RE.finditer(low, s.start, s.end)]
        if _PERIOD_TRIGGER_RE.search(low, s.start, s.end)
        else []
    )
    if not claimable:
        # Nothing here can be a claim ("Jan. 11", "M142", "thousands"): skipped for the reason
        # `not_a_claim` gives, without reading the sentence's words, sides and clauses.
        def no_category_check(pos: int) -> bool:  # not_a_claim never gets that far here
            hit = _Words.of(low, s).category(pos, pos + 2)
            return hit is not None and hit[2] != NOT_A_CATEGORY

        for token in tokens:
            reason = not_a_claim(text, low, s, token, dates, periods, no_category_check)
            state.skipped.append(_skipped(text, token, reason or "no category"))
        return
    words = _Words.of(low, s)
    sides = _side_mentions(words, attributions)
    breaks = clause_breaks(text, s)
    sentence = low[s.start : s.end]
    totals = (
        [m.start() for m in TOTAL_MARKER_RE.finditer(low, s.start, s.end)]
        if any(marker in sentence for marker in TOTAL_MARKER_WORDS)
        else []
    )
    spans: list[tuple[int, int | None]] = [(a, days) for a, _, days in periods]
    spans += [(d.start, d.span_days) for d in own_dates if d.span_days is not None]
    ctx = _SentenceContext(
        s, words, sides, breaks, attributions, own_dates, periods, totals,
        spans,
    )  # fmt: skip

    def category_follows(pos: int) -> bool:
        hit = words.category(pos, pos + 2)
        return hit is not None and hit[2] != NOT_A_CATEGORY

    range_ends: set[int] = set()
    for i, token in enumerate(tokens):
        if token.start in range_ends:
            continue
        reason = not_a_claim(text, low, s, token, dates, periods, category_follows)
        join = joined(text, low, tokens, i) if reason is None else None
        if reason is None and starts_a_change(join):
            reason = "starting value"
        if reason is not None:
            state.skipped.append(_skipped(text, token, reason))
            continue
        high = range_end(tokens, i, join)
        if high is not None:
            range_ends.add(high.start)
        nxt = next((t for t in tokens[i + 1 :] if t.start not in range_ends), None)
        prev = tokens[i - 1] if i else None
        claim = _claim(text, low, ctx, token, high, nxt, prev, state)
        if claim is None:
            state.skipped.append(_skipped(text, token, "no category"))
        else:
            state.claims.append(claim)


def _skipped(text: str, token: Token, reason: str) -> SkippedNumber:
    return SkippedNumber(text[token.start : token.end], token.start, token.end, reason)


class _SentenceContext(NamedTuple):  # a tuple: 5x cheaper to build than a dataclass
    s: Sentence
    words: _Words
    sides: list[tuple[int, str]]
    breaks: list[int]
    attributions: list[Attribution]
    own_dates: list[DateMention]
    periods: list[tuple[int, int, int]]
    # Offsets of total markers ("total", "since the war began"): found once a sentence,
    # consulted for each figure.
    totals: list[int]
    # Where a period ("over the past day", "between Sunday and Monday") is named, with the
    # days it spans.
    spans: list[tuple[int, int | None]]


def _period_days(m: re.Match[str]) -> int:
    if m.group("day"):
        return 1
    if m.group("week"):
        return 7
    count = m.group("count")
    n = int(count) if count.isdigit() else SMALL_NUMBER_WORDS.get(count, 1)
    return max(1, n * (7 if m.group("unit") == "weeks" else 1))


def _sentence_date(own_dates: list[DateMention]) -> date | None:
    marked = [d for d in own_dates if d.as_of_marked]
    if marked:
        return marked[0].day
    return own_dates[-1].day if own_dates else None


def _side_mentions(words: _Words, attributions: list[Attribution]) -> list[tuple[int, str]]:
    """Where the sentence names a side as the one losing: not inside an attribution ("Russia's
    Defense Ministry") and not as a place ("in Ukraine", "of the Ukraine")."""
    out: list[tuple[int, str]] = []
    named = [
        (i, side) for i, side in enumerate(map(SIDE_OF.__getitem__, words.raw)) if side is not None
    ]
    for i, side in named:
        pos = words.starts[i]
        if any(a.start <= pos < a.end for a in attributions):
            continue
        before = i - 1
        if before >= 0 and words.raw[before] == "the":
            before -= 1
        if before >= 0 and words.raw[before] in LOCATION_WORDS:
            continue
        out.append((pos, side))
    return out


def _claim(
    text: str,
    low: str,
    ctx: _SentenceContext,
    token: Token,
    high_token: Token | None,
    nxt: Token | None,
    prev: Token | None,
    state: _State,
) -> Claim | None:
    s, words = ctx.s, ctx.words
    start = token.start
    number_end = high_token.end if high_token else token.end
    clause_start, clause_end = clause_of(ctx.breaks, s, start, number_end)
    is_word = token.kind == "word"
    phrase_end = min(clause_end, number_end + (45 if is_word else 60))
    if nxt is not None and nxt.kind != "model" and nxt.start < phrase_end:
        phrase_end = nxt.start
    hit = words.category(number_end, phrase_end)
    category_after = hit is not None
    if hit is None and not is_word:
        back_start = max(clause_start, prev.end if prev is not None else s.start)
        hit = words.category(back_start, start, last=True)
    if hit is None or hit[2] == NOT_A_CATEGORY:
        return None
    first, count, name = hit
    cat = _CATEGORIES[name]
    label = _label(text, words, first, count, name)
    category_start = words.starts[first]

    attribution = attribution_for(start, ctx.attributions)
    claimant_how: str
    if attribution is not None:
        claimant, claimant_how = attribution.claimant, attribution.how
    elif state.claimant is not None and s.paragraph - state.claimant_paragraph <= 1:
        claimant, claimant_how = state.claimant, "inherited"
    else:
        claimant, claimant_how = Claimant.unknown, "none"

    subject, subject_explicit = _subject(
        ctx.sides, start, number_end, category_start, category_after, claimant
    )
    measure: Measure | None = None
    if cat is Category.personnel:
        context = low[number_end:phrase_end] + " " + low[max(clause_start, start - 30) : start]
        measure = personnel_measure(context)

    kind, kind_explicit, period_days = _kind(low, ctx, start, clause_start, clause_end)
    qualifier = Qualifier.exact
    q = search_before(
        QUALIFIER_BEFORE_RE, QUALIFIER_BEFORE_ENDINGS, low[max(clause_start, start - 24) : start]
    )
    if q is not None and q.lastgroup:
        qualifier = QUALIFIERS[q.lastgroup]

    as_of, as_of_how = _own_as_of(ctx.own_dates, start, clause_start, clause_end)
    if as_of is None and claimant_how in ("anaphor", "inherited") and state.claimant_date:
        as_of, as_of_how = state.claimant_date, "context"
    if as_of is None:
        as_of, as_of_how = date.min, "latest"

    ranged = high_token is not None
    return Claim(
        number_start=start,
        number_end=number_end,
        sentence=s,
        claimant=claimant,
        claimant_how=claimant_how,
        subject=subject,
        category=cat,
        measure=measure,
        label=label,
        kind=kind,
        kind_explicit=kind_explicit,
        value=None if ranged else token.value,
        low=token.value if ranged else None,
        high=high_token.value if high_token is not None else None,
        qualifier=qualifier,
        # The contract leaves period_days empty for the usual one-day change.
        period_days=period_days if kind == "delta" and (period_days or 0) > 1 else None,
        as_of=as_of,
        as_of_how=as_of_how,
        subject_explicit=subject_explicit,
    )


def _label(text: str, words: _Words, first: int, count: int, name: str) -> str:
    """The naming phrase, run on over adjacent terms of the same category ("M142 High Mobility
    Artillery Rocket Systems")."""
    last = first + count - 1
    while last + 1 < len(words.norm):
        nxt = category_at(words.norm, last + 1)
        if nxt is None or nxt[0] != name:
            break
        last += nxt[1]
    # A phrase starts and ends with a word, so joining its split words is "\s+" → " ".
    return " ".join(text[words.starts[first] : words.ends[last]].split())[:500]


def _opponent(claimant: Claimant) -> Subject:
    return Subject.ukraine if claimant is Claimant.ru_mod else Subject.russia


def _subject(
    sides: list[tuple[int, str]],
    start: int,
    number_end: int,
    category_start: int,
    category_after: bool,
    claimant: Claimant,
) -> tuple[Subject, bool]:
    """Whose losses: the side named between the figure and its noun ("720 Russian army
    losses"), else the last side named before the figure, else the claimant's opponent."""
    chosen: str | None = None
    if category_after:
        chosen = next((g for pos, g in sides if number_end <= pos < category_start), None)
    if chosen is None:
        before = [g for pos, g in sides if pos < start]
        chosen = before[-1] if before else None
    if chosen is None or chosen == "enemy":
        return _opponent(claimant), chosen == "enemy"
    return _SUBJECTS[chosen], True


def _kind(
    low: str, ctx: _SentenceContext, start: int, clause_start: int, clause_end: int
) -> tuple[Kind, bool, int | None]:
    """Total or delta, whether the text says so, and the days a delta spans: the clause's own
    markers first, then the sentence's; a destruction verb before the figure tells of an
    engagement; otherwise a quoted figure is a running total."""
    s = ctx.s
    spans = ctx.spans
    for lo, hi in ((clause_start, clause_end), (s.start, s.end)):
        total = next((t for t in ctx.totals if lo <= t < hi), None)
        deltas = [(a, days) for a, days in spans if lo <= a < hi]
        if total is not None and deltas:
            nearest = min(deltas, key=lambda d: abs(d[0] - start))
            if abs(nearest[0] - start) < abs(total - start):
                return "delta", True, nearest[1]
            return "total", True, None
        if total is not None:
            return "total", True, None
        if deltas:
            return "delta", True, deltas[0][1]
    # Looked for only here, when no marker decided: most figures never get this far.
    destruction = DESTRUCTION_RE.search(low, s.start, s.end)
    if destruction is not None and destruction.start() < start:
        return "delta", False, None
    return "total", False, None


def _own_as_of(
    own_dates: list[DateMention], start: int, clause_start: int, clause_end: int
) -> tuple[date | None, AsOfHow]:
    if not own_dates:
        return None, "own"
    marked = [d for d in own_dates if d.as_of_marked]
    if marked:
        return marked[0].day, "own"
    in_clause = [d for d in own_dates if clause_start <= d.start < clause_end]
    if in_clause:
        return min(in_clause, key=lambda d: abs(d.start - start)).day, "own"
    return own_dates[-1].day, "own"


def _event(doc: RawDocument, text: str, c: Claim, warnings: list[str]) -> LossEvent:
    """Built without re-validation (`trusted`): every value is valid by construction, and
    validating would cost more than the extraction."""
    s = c.sentence
    if implausible(c):
        warnings.append(
            f"implausible attribution at {s.start}: {c.claimant.value} quoted on "
            f"{c.subject.value} losses ({c.category.value})"
        )
    return trusted.event(
        {
            "event_id": _EVENT_ID(
                doc.id, c.claimant, c.subject, c.category, c.measure, c.number_start
            ),
            "source_id": doc.id,
            "source_kind": DocumentKind.article,
            "claimant": c.claimant,
            "subject": c.subject,
            "category": c.category,
            "label": c.label,
            "as_of": c.as_of,
            "total": c.value if c.kind == "total" else None,
            "delta": c.value if c.kind == "delta" else c.delta,
            "period_days": c.period_days,
            "qualifier": c.qualifier,
            "low": c.low,
            "high": c.high,
            "measure": c.measure,
            "span": trusted.span(s.start, s.end, text[s.start : s.end]),
            "official": False,
            "confidence": confidence(c),
            "quality": [],
        }
    )


def _fast_event_id(
    source_id: str,
    claimant: Claimant,
    subject: Subject,
    category: Category,
    measure: Measure | None,
    start: int,
) -> str:
    """`loss_event_id`, written out: its generic join over `str()` of each part costs more."""
    key = (
        f"loss\x1f{source_id}\x1f{claimant}\x1f{subject}\x1f{category}"
        f"\x1f{measure or ''}\x1f{start}"
    )
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


# If the contract's recipe ever stops matching, `_event` uses `loss_event_id` itself, so ids
# can never silently diverge.
_FAST_IDS_AGREE: Final = all(
    _fast_event_id("probe-é", claimant, subject, category, measure, 7)
    == loss_event_id("probe-é", claimant, subject, category, measure, 7)
    for claimant in Claimant
    for subject in Subject
    for category in Category
    for measure in (None, *Measure)
)
_EVENT_ID: Final = _fast_event_id if _FAST_IDS_AGREE else loss_event_id


_REPORT_FLAGS: Final = (QualityFlag.matches_report, QualityFlag.contradicts_report)


def check_against_reports(event: LossEvent, official_total: int | None) -> LossEvent:
    """Flag an article's total as matching or contradicting the official report for its day.
    A rounded figure ("more than 121,000") matches a report that rounds to it (121,480)."""
    if official_total is None or (event.total is None and event.low is None):
        return event
    if event.total is not None:
        matches = event.total == official_total or (
            event.qualifier is not Qualifier.exact
            and rounds_to(event.total, event.qualifier, official_total)
        )
    else:
        matches = (event.low or 0) <= official_total <= (event.high or MAX_COUNT)
    quality: list[QualityFlag] = [q for q in event.quality if q not in _REPORT_FLAGS]
    quality.append(QualityFlag.matches_report if matches else QualityFlag.contradicts_report)
    return event.model_copy(update={"quality": quality})
