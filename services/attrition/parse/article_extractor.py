"""Attributed loss claims from news prose: every figure an article quotes, with who claims it,
whose losses it counts, what it counts, and for which day.

Precision comes first: a figure is taken only when a loss category names it; every other
number the text holds is listed in `ArticleParse.skipped` with the reason it was left out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Final

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
from attrition.parse.article_dates import DateMention, find_dates
from attrition.parse.article_numbers import (
    MAX_COUNT,
    not_a_claim,
    number_value,
    range_end,
    skip_spaces,
    starts_a_change,
)
from attrition.parse.article_sentences import Sentence, clause_breaks, clause_of, split_sentences
from attrition.parse.article_vocabulary import (
    CATEGORY_RE,
    DESTRUCTION_RE,
    LOCATION_BEFORE_RE,
    NOT_A_CATEGORY,
    NUMBER_TOKEN_RE,
    PERIOD_RE,
    QUALIFIER_BEFORE_RE,
    QUALIFIERS,
    SIDE_RE,
    SMALL_NUMBER_WORDS,
    TOTAL_MARKER_RE,
    personnel_measure,
)

__all__ = ["ArticleParse", "SkippedNumber", "check_against_reports", "extract_claims"]

_SPACES_RE: Final = re.compile(r"\s+")


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


def _extract(doc: RawDocument, max_line_chars: int) -> ArticleParse:
    text = doc.text
    state = _State()
    for sentence in split_sentences(text, max_line_chars, state.warnings):
        _read_sentence(text, sentence, doc.published, state)
    claims = resolve_latest_dates(state.claims, doc.published)
    claims = drop_rounded(claims, text, state.skipped)
    claims = merge_restatements(claims, text, state.skipped)
    claims = join_total_and_delta(claims)
    events = tuple(_event(doc, text, c, state.warnings) for c in claims)
    skipped = tuple(sorted(state.skipped, key=lambda s: s.start))
    return ArticleParse(events, skipped, tuple(state.warnings))


def _read_sentence(text: str, s: Sentence, published: date, state: _State) -> None:
    dates, state.anchor = find_dates(text, s.start, s.end, published, state.anchor)
    attributions = find_attributions(text, s.start, s.end, state.claimant)
    periods = [
        (m.start(), m.end(), _period_days(m)) for m in PERIOD_RE.finditer(text, s.start, s.end)
    ]
    breaks = clause_breaks(text, s)
    sides = _side_mentions(text, s, attributions)
    tokens = list(NUMBER_TOKEN_RE.finditer(text, s.start, s.end))
    own_dates = [d for d in dates if not d.starts_period]
    taken_as_range_end: set[int] = set()
    for i, token in enumerate(tokens):
        if token.start() in taken_as_range_end:
            continue
        reason = not_a_claim(text, s, token, dates, periods)
        if reason is not None:
            state.skipped.append(SkippedNumber(token.group(0), token.start(), token.end(), reason))
            continue
        if starts_a_change(text, tokens, i):
            state.skipped.append(
                SkippedNumber(token.group(0), token.start(), token.end(), "starting value")
            )
            continue
        value = number_value(token)
        high_token = range_end(text, tokens, i, value)
        if high_token is not None:
            taken_as_range_end.add(high_token.start())
        nxt = next((t for t in tokens[i + 1 :] if t.start() not in taken_as_range_end), None)
        claim, why = _claim(
            text, s, token, value, high_token, nxt, tokens[i - 1] if i else None,
            breaks, sides, attributions, own_dates, periods, state,
        )  # fmt: skip
        if claim is None:
            state.skipped.append(SkippedNumber(token.group(0), token.start(), token.end(), why))
        else:
            state.claims.append(claim)
    if attributions:
        last = attributions[-1]
        own = _sentence_date(own_dates)
        if own is not None or last.how != "anaphor" or last.claimant is not state.claimant:
            state.claimant_date = own
        state.claimant = last.claimant
        state.claimant_paragraph = s.paragraph


def _period_days(m: re.Match[str]) -> int:
    if m.group("day"):
        return 1
    if m.group("week"):
        return 7
    count = m.group("count").lower()
    n = int(count) if count.isdigit() else SMALL_NUMBER_WORDS.get(count, 1)
    return max(1, n * (7 if m.group("unit").lower() == "weeks" else 1))


def _sentence_date(own_dates: list[DateMention]) -> date | None:
    marked = [d for d in own_dates if d.as_of_marked]
    if marked:
        return marked[0].day
    return own_dates[-1].day if own_dates else None


def _side_mentions(
    text: str, s: Sentence, attributions: list[Attribution]
) -> list[tuple[int, str]]:
    """Where the sentence names a side as the one losing: not inside an attribution ("Russia's
    Defense Ministry") and not as a place ("in Ukraine")."""
    out: list[tuple[int, str]] = []
    for m in SIDE_RE.finditer(text, s.start, s.end):
        if any(a.start <= m.start() < a.end for a in attributions):
            continue
        if LOCATION_BEFORE_RE.search(text[max(s.start, m.start() - 16) : m.start()]):
            continue
        out.append((m.start(), m.lastgroup or ""))
    return out


def _claim(
    text: str,
    s: Sentence,
    token: re.Match[str],
    value: int,
    high_token: re.Match[str] | None,
    nxt: re.Match[str] | None,
    prev: re.Match[str] | None,
    breaks: list[int],
    sides: list[tuple[int, str]],
    attributions: list[Attribution],
    own_dates: list[DateMention],
    periods: list[tuple[int, int, int]],
    state: _State,
) -> tuple[Claim | None, str]:
    start = token.start()
    number_end = high_token.end() if high_token else token.end()
    clause_start, clause_end = clause_of(breaks, s, start, number_end)
    is_word = token.group("word") is not None
    phrase_end = min(clause_end, number_end + (45 if is_word else 60))
    if nxt is not None and nxt.group("model") is None and nxt.start() < phrase_end:
        phrase_end = nxt.start()
    category = CATEGORY_RE.search(text, number_end, phrase_end)
    category_after = category is not None
    if category is None and not is_word:
        back_start = max(clause_start, prev.end() if prev is not None else s.start)
        for category in CATEGORY_RE.finditer(text, back_start, start):  # noqa: B007 - keep last
            pass
    if category is None or category.lastgroup in (None, NOT_A_CATEGORY):
        return None, "no category"
    cat = Category(category.lastgroup)
    label = _label(text, category, s.end)

    attribution = attribution_for(start, attributions)
    claimant_how: str
    if attribution is not None:
        claimant, claimant_how = attribution.claimant, attribution.how
    elif state.claimant is not None and s.paragraph - state.claimant_paragraph <= 1:
        claimant, claimant_how = state.claimant, "inherited"
    else:
        claimant, claimant_how = Claimant.unknown, "none"

    subject, subject_explicit = _subject(
        sides, start, number_end, category, category_after, claimant
    )
    measure: Measure | None = None
    if cat is Category.personnel:
        context = text[number_end:phrase_end] + " " + text[max(clause_start, start - 30) : start]
        measure = personnel_measure(context)

    kind, kind_explicit, period_days = _kind(
        text, s, start, clause_start, clause_end, own_dates, periods
    )
    qualifier = Qualifier.exact
    q = QUALIFIER_BEFORE_RE.search(text[max(clause_start, start - 24) : start])
    if q is not None and q.lastgroup:
        qualifier = QUALIFIERS[q.lastgroup]

    as_of, as_of_how = _own_as_of(own_dates, start, clause_start, clause_end)
    if as_of is None and claimant_how in ("anaphor", "inherited") and state.claimant_date:
        as_of, as_of_how = state.claimant_date, "context"
    if as_of is None:
        as_of, as_of_how = date.min, "latest"

    high = number_value(high_token) if high_token is not None else None
    return (
        Claim(
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
            value=None if high is not None else value,
            low=value if high is not None else None,
            high=high,
            qualifier=qualifier,
            # The contract leaves period_days empty for the usual one-day change.
            period_days=period_days if kind == "delta" and (period_days or 0) > 1 else None,
            as_of=as_of,
            as_of_how=as_of_how,
            subject_explicit=subject_explicit,
        ),
        "",
    )


def _label(text: str, category: re.Match[str], limit: int) -> str:
    """The naming phrase, run on over adjacent terms of the same category ("M142 High Mobility
    Artillery Rocket Systems")."""
    end = category.end()
    while True:
        nxt = CATEGORY_RE.match(text, skip_spaces(text, end, limit), limit)
        if nxt is None or nxt.lastgroup != category.lastgroup or nxt.end() <= end:
            break
        end = nxt.end()
    return _SPACES_RE.sub(" ", text[category.start() : end])[:500]


def _opponent(claimant: Claimant) -> Subject:
    return Subject.ukraine if claimant is Claimant.ru_mod else Subject.russia


def _subject(
    sides: list[tuple[int, str]],
    start: int,
    number_end: int,
    category: re.Match[str],
    category_after: bool,
    claimant: Claimant,
) -> tuple[Subject, bool]:
    """Whose losses: the side named between the figure and its noun ("720 Russian army
    losses"), else the last side named before the figure, else the claimant's opponent."""
    chosen: str | None = None
    if category_after:
        chosen = next((g for pos, g in sides if number_end <= pos < category.start()), None)
    if chosen is None:
        before = [g for pos, g in sides if pos < start]
        chosen = before[-1] if before else None
    if chosen is None or chosen == "enemy":
        return _opponent(claimant), chosen == "enemy"
    return Subject(chosen), True


def _kind(
    text: str,
    s: Sentence,
    start: int,
    clause_start: int,
    clause_end: int,
    own_dates: list[DateMention],
    periods: list[tuple[int, int, int]],
) -> tuple[Kind, bool, int | None]:
    """Total or delta, whether the text says so, and the days a delta spans: the clause's own
    markers first, then the sentence's; a destruction verb before the figure tells of an
    engagement; otherwise a quoted figure is a running total."""
    spans = [(a, b, days) for a, b, days in periods] + [
        (d.start, d.end, d.span_days) for d in own_dates if d.span_days is not None
    ]
    for lo, hi in ((clause_start, clause_end), (s.start, s.end)):
        total = TOTAL_MARKER_RE.search(text, lo, hi)
        deltas = [(a, days) for a, b, days in spans if lo <= a < hi]
        if total is not None and deltas:
            nearest = min(deltas, key=lambda d: abs(d[0] - start))
            if abs(nearest[0] - start) < abs(total.start() - start):
                return "delta", True, nearest[1]
            return "total", True, None
        if total is not None:
            return "total", True, None
        if deltas:
            return "delta", True, deltas[0][1]
    if DESTRUCTION_RE.search(text, s.start, start) is not None:
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
    """Built with model_construct: every value is already valid by construction (the tests
    check that validating the same values gives an equal event), and validation would cost
    more than the extraction."""
    s = c.sentence
    if implausible(c):
        warnings.append(
            f"implausible attribution at {s.start}: {c.claimant.value} quoted on "
            f"{c.subject.value} losses ({c.category.value})"
        )
    return LossEvent.model_construct(
        event_id=loss_event_id(
            doc.id, c.claimant, c.subject, c.category, c.measure, c.number_start
        ),
        source_id=doc.id,
        source_kind=DocumentKind.article,
        claimant=c.claimant,
        subject=c.subject,
        category=c.category,
        label=c.label,
        as_of=c.as_of,
        total=c.value if c.kind == "total" else None,
        delta=c.value if c.kind == "delta" else c.delta,
        period_days=c.period_days,
        qualifier=c.qualifier,
        low=c.low,
        high=c.high,
        measure=c.measure,
        span=TextSpan.model_construct(start=s.start, end=s.end, text=text[s.start : s.end]),
        official=False,
        confidence=confidence(c),
        quality=[],
    )


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
