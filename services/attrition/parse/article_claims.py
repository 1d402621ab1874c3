"""Claims as read from one sentence, and how an article's claims are consolidated: undated
figures dated, rounded and repeated restatements folded into the exact statement, a day's
total and change joined. Also the confidence each claim earns."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from operator import attrgetter
from typing import Final, Literal

from attrition.contracts.vocabulary import Category, Claimant, Measure, Qualifier, Subject
from attrition.parse.article_sentences import Sentence

Kind = Literal["total", "delta"]
AsOfHow = Literal["own", "context", "latest", "published"]


@dataclass(frozen=True, slots=True)
class SkippedNumber:
    """A number the article holds that was not taken as a claim, and why."""

    text: str
    start: int
    end: int
    reason: str


# Not frozen: a frozen dataclass's __init__ costs four times as much, and claims are built
# and copied (`replace`) many times an article. Nothing mutates a claim once built.
@dataclass(slots=True)
class Claim:
    number_start: int
    number_end: int
    sentence: Sentence
    claimant: Claimant
    claimant_how: str
    subject: Subject
    category: Category
    measure: Measure | None
    label: str
    kind: Kind
    kind_explicit: bool
    value: int | None
    low: int | None
    high: int | None
    qualifier: Qualifier
    period_days: int | None
    as_of: date
    as_of_how: AsOfHow
    subject_explicit: bool
    delta: int | None = None

    @property
    def key(self) -> tuple[object, ...]:
        return (self.subject, self.category, self.measure, self.kind)


# Every field of a claim, in declaration order: `_replace` copies them in one C call.
_CLAIM_VALUES: Final = attrgetter(*(f.name for f in fields(Claim)))


def _replace(claim: Claim, **changes: object) -> Claim:
    """`dataclasses.replace` for a claim, without its per-call field introspection (it costs
    several microseconds, and claims are copied many times an article)."""
    new = Claim(*_CLAIM_VALUES(claim))
    for name, value in changes.items():
        setattr(new, name, value)
    return new


def resolve_latest_dates(claims: list[Claim], published: date) -> list[Claim]:
    """An undated figure is the claimant's latest one the article quotes (articles lead with
    the newest report), else the publication date's."""
    latest: dict[Claimant, date] = {}
    for c in claims:
        if c.as_of_how == "own" and c.as_of > latest.get(c.claimant, date.min):
            latest[c.claimant] = c.as_of
    out: list[Claim] = []
    for c in claims:
        if c.as_of_how == "latest":
            found = latest.get(c.claimant) if c.claimant is not Claimant.unknown else None
            c = _replace(c, as_of=found or published, as_of_how="latest" if found else "published")
        out.append(c)
    return out


def _compatible(a: Claim, b: Claim) -> bool:
    same_claimant = a.claimant is b.claimant or Claimant.unknown in (a.claimant, b.claimant)
    same_day = a.as_of == b.as_of or a.as_of_how != "own" or b.as_of_how != "own"
    return same_claimant and same_day and a.key == b.key


def rounds_to(value: int, qualifier: Qualifier, exact: int) -> bool:
    """Whether "more than 121,000" (or about/at least/up to) is a rounding of 121,480: the
    figure's trailing zeros set the rounding unit."""
    if value <= 0:
        return False
    unit = 1
    while value % (unit * 10) == 0:
        unit *= 10
    if unit < 10:
        return False
    if qualifier is Qualifier.more_than:
        return value < exact < value + unit
    if qualifier is Qualifier.at_least:
        return value <= exact < value + unit
    if qualifier is Qualifier.up_to:
        return value - unit < exact <= value
    return abs(exact - value) * 2 <= unit


def _skip(text: str, c: Claim, reason: str, skipped: list[SkippedNumber]) -> None:
    skipped.append(
        SkippedNumber(text[c.number_start : c.number_end], c.number_start, c.number_end, reason)
    )


def drop_rounded(claims: list[Claim], text: str, skipped: list[SkippedNumber]) -> list[Claim]:
    exact = [c for c in claims if c.qualifier is Qualifier.exact and c.value is not None]
    kept: list[Claim] = []
    for c in claims:
        if (
            c.qualifier is not Qualifier.exact
            and c.value is not None
            and any(
                _compatible(c, e) and rounds_to(c.value, c.qualifier, e.value or 0) for e in exact
            )
        ):
            _skip(text, c, "rounded restatement", skipped)
        else:
            kept.append(c)
    return kept


def _rank(c: Claim) -> tuple[bool, float]:
    return c.claimant is not Claimant.unknown, confidence(c)


def merge_restatements(claims: list[Claim], text: str, skipped: list[SkippedNumber]) -> list[Claim]:
    """One event for a figure the article repeats (a bullet list restating the body): the best
    attributed statement is kept and takes a stated date from the others."""
    kept: list[Claim] = []
    for c in sorted(claims, key=_rank, reverse=True):
        for i, k in enumerate(kept):
            if (c.value, c.low, c.high) == (k.value, k.low, k.high) and _compatible(c, k):
                if k.as_of_how != "own" and c.as_of_how == "own":
                    kept[i] = _replace(k, as_of=c.as_of, as_of_how="own")
                _skip(text, c, "restatement", skipped)
                break
        else:
            kept.append(c)
    return sorted(kept, key=lambda c: c.number_start)


def join_total_and_delta(claims: list[Claim]) -> list[Claim]:
    """A day's total and its change, quoted in separate sentences, are one report line."""
    groups: dict[tuple[object, ...], list[Claim]] = {}
    for c in claims:
        if c.claimant is not Claimant.unknown and c.value is not None:
            groups.setdefault((c.claimant, c.as_of, *c.key[:3]), []).append(c)
    joined: dict[int, Claim] = {}
    absorbed: set[int] = set()
    for group in groups.values():
        totals = [c for c in group if c.kind == "total"]
        deltas = [c for c in group if c.kind == "delta"]
        if len(totals) == 1 and len(deltas) == 1:
            total, delta = totals[0], deltas[0]
            joined[total.number_start] = _replace(
                total, delta=delta.value, period_days=delta.period_days
            )
            absorbed.add(delta.number_start)
    return [joined.get(c.number_start, c) for c in claims if c.number_start not in absorbed]


def implausible(c: Claim) -> bool:
    """Russia's ministry does not publish Russian losses, nor the General Staff Ukrainian ones:
    such a pairing is a misattributed copy more often than news."""
    return c.subject_explicit and (
        (c.claimant is Claimant.ru_mod and c.subject is Subject.russia)
        or (c.claimant is Claimant.ua_general_staff and c.subject is Subject.ukraine)
    )


_CLAIMANT_PENALTY: Final = {"named": 0.0, "stated": 0.05, "anaphor": 0.1, "inherited": 0.2}
_AS_OF_PENALTY: Final = {"own": 0.0, "context": 0.05, "latest": 0.1, "published": 0.15}


def confidence(c: Claim) -> float:
    score = 0.95 - _CLAIMANT_PENALTY.get(c.claimant_how, 0.45) - _AS_OF_PENALTY[c.as_of_how]
    score -= 0.0 if c.kind_explicit else 0.1
    score -= 0.0 if c.subject_explicit else 0.05
    score -= 0.0 if c.qualifier is Qualifier.exact else 0.05
    score -= 0.05 if c.low is not None else 0.0
    score -= 0.3 if implausible(c) else 0.0
    return round(min(0.95, max(0.05, score)), 2)
