"""Runs the article extractor over the corpus articles: the claims each yields, how they
compare with what the known article must yield, and the throughput per core."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from attrition.contracts.events import LossEvent, RawDocument
from attrition.contracts.vocabulary import DocumentKind
from attrition.evaluation.throughput import Throughput, measure
from attrition.parse.article_extractor import ArticleParse, extract_claims

# Publication dates are not in the article files; these are the known ones, by file id.
PUBLISHED: Final[dict[str, date]] = {"7d108b09a70145ac": date(2023, 1, 24)}

_UA: Final = "ua_general_staff"
Row = tuple[str, str, str, str | None, str, int | None, int | None]

# What the known article states, read by a person: (claimant, subject, category, measure,
# as_of, total, delta). Anything else the extractor returns counts as unexpected.
EXPECTED: Final[dict[str, frozenset[Row]]] = {
    "7d108b09a70145ac": frozenset(
        {
            (_UA, "russia", "personnel", "casualties", "2023-01-23", 121480, 720),
            (_UA, "russia", "personnel", "casualties", "2023-01-22", 120760, None),
            (_UA, "russia", "tanks", None, "2023-01-23", 3150, None),
            (_UA, "russia", "armoured_combat_vehicles", None, "2023-01-23", 6276, None),
            (_UA, "russia", "artillery_systems", None, "2023-01-23", 2146, None),
            ("ru_mod", "ukraine", "mlrs", None, "2023-01-22", None, 2),
        }
    )
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ArticleResult:
    file: str
    doc_id: str
    published: date
    published_known: bool
    chars: int
    parsed: ArticleParse
    expected: int | None
    matched: int | None
    unexpected: tuple[Row, ...]
    missing: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class ArticleEvalResult:
    articles: tuple[ArticleResult, ...]
    throughput: float  # the median pass's articles per second, per core
    mean_chars: float
    throughput_stats: Throughput


def _row(e: LossEvent) -> Row:
    return (
        e.claimant.value,
        e.subject.value,
        e.category.value,
        e.measure.value if e.measure else None,
        e.as_of.isoformat(),
        e.total,
        e.delta,
    )


def _doc_id(path: Path) -> str:
    """`000_7d108b09a70145ac.txt` → `7d108b09a70145ac`."""
    return path.stem.split("_", 1)[-1]


def load_articles(corpus_dir: Path) -> list[tuple[Path, RawDocument, bool]]:
    """Each article as a RawDocument, with whether its publication date is known (unknown
    ones are read as published today, which only moves weekday and relative dates)."""
    out: list[tuple[Path, RawDocument, bool]] = []
    for path in sorted((corpus_dir / "articles").glob("*.txt")):
        doc_id = _doc_id(path)
        published = PUBLISHED.get(doc_id)
        doc = RawDocument(
            id=doc_id,
            kind=DocumentKind.article,
            published=published or date.today(),
            text=path.read_text(encoding="utf-8"),
        )
        out.append((path, doc, published is not None))
    return out


def article_throughput_stats(texts: list[RawDocument], repeat: int) -> Throughput:
    """Articles extracted per second in this process (one core): best and median of `repeat`
    separately timed passes over all the articles, after a warm-up pass."""
    return measure(extract_claims, texts, repeat)


def article_throughput(texts: list[RawDocument], repeat: int) -> float:
    """The median pass's articles per second (see `article_throughput_stats`)."""
    return article_throughput_stats(texts, repeat).median


def evaluate_articles(corpus_dir: Path, repeat: int = 300) -> ArticleEvalResult:
    loaded = load_articles(corpus_dir)
    results: list[ArticleResult] = []
    for path, doc, known in loaded:
        parsed = extract_claims(doc)
        rows = [_row(e) for e in parsed.events]
        expected = EXPECTED.get(doc.id)
        results.append(
            ArticleResult(
                file=path.name,
                doc_id=doc.id,
                published=doc.published,
                published_known=known,
                chars=len(doc.text),
                parsed=parsed,
                expected=len(expected) if expected is not None else None,
                matched=sum(r in expected for r in rows) if expected is not None else None,
                unexpected=tuple(r for r in rows if expected is not None and r not in expected),
                missing=tuple(sorted(expected - set(rows), key=str)) if expected else (),
            )
        )
    docs = [doc for _, doc, _ in loaded]
    mean_chars = sum(len(d.text) for d in docs) / len(docs) if docs else 0.0
    speed = article_throughput_stats(docs, repeat)
    return ArticleEvalResult(tuple(results), speed.median, mean_chars, speed)


def format_article_eval(result: ArticleEvalResult) -> str:
    lines: list[str] = []
    for a in result.articles:
        published = a.published.isoformat() + ("" if a.published_known else " (unknown: today)")
        lines.append(f"{a.file}  id={a.doc_id}  published={published}  {a.chars} chars")
        for e in a.parsed.events:
            value = (
                f"total={e.total}" if e.total is not None else f"range={e.low}–{e.high}"
                if e.low is not None else ""
            )  # fmt: skip
            delta = f" delta={e.delta}" if e.delta is not None else ""
            period = f" over {e.period_days} days" if e.period_days else ""
            measure = f"/{e.measure.value}" if e.measure else ""
            lines.append(
                f"  {e.as_of}  {e.claimant.value:<16} {e.subject.value:<7} "
                f"{e.category.value}{measure}  {value}{delta}{period} "
                f"({e.qualifier.value}, conf {e.confidence:.2f})  label={e.label!r}"
            )
        reasons: dict[str, int] = {}
        for s in a.parsed.skipped:
            reasons[s.reason] = reasons.get(s.reason, 0) + 1
        skipped = ", ".join(f"{reason} ×{n}" for reason, n in sorted(reasons.items()))
        lines.append(f"  skipped: {skipped or 'none'}")
        for warning in a.parsed.warnings:
            lines.append(f"  warning: {warning}")
        if a.expected is not None:
            lines.append(
                f"  expected claims: {a.matched}/{a.expected} found, "
                f"{len(a.unexpected)} unexpected, {len(a.missing)} missing"
            )
            lines.extend(f"    unexpected: {r}" for r in a.unexpected)
            lines.extend(f"    missing: {r}" for r in a.missing)
    lines.append(
        f"throughput: {result.throughput_stats.describe('articles')}; "
        f"mean {result.mean_chars:,.0f} characters per article"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/corpus")
    print(format_article_eval(evaluate_articles(corpus)))
