"""(1) and (2): the pure parsers on one core, no broker: reports/s and articles/s.

The real corpus when it is there (`--corpus`, ../shared/corpus by default), else the generated
reports and an article written the way wire copy quotes the General Staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from attrition.bench.load import report_series
from attrition.contracts.events import RawDocument
from attrition.contracts.vocabulary import DocumentKind
from attrition.evaluation.article_eval import article_throughput, load_articles
from attrition.evaluation.report_eval import measure_throughput

GENERATED_ARTICLE: Final = (
    "KYIV, March 1 - Russia has lost 150,590 soldiers since the start of its full-scale "
    "invasion, Ukraine's General Staff said on Wednesday, including 790 soldiers over the past "
    "day.\n\nThe General Staff also said Russian forces had lost 3,432 tanks and 6,728 armoured "
    "personnel carriers.\n\nThe figures could not be independently verified. The war began on "
    "Feb. 24, 2022.\n"
)


@dataclass(frozen=True)
class ParserRates:
    reports_per_s: float
    reports_source: str
    articles_per_s: float
    articles_source: str


def _corpus_reports(corpus: Path) -> list[RawDocument]:
    documents: list[RawDocument] = []
    for path in sorted((corpus / "reports").glob("*.jsonl")):
        if path.name.endswith((".expected.jsonl", ".provenance.jsonl")):
            continue
        with path.open("rb") as handle:
            documents.extend(
                RawDocument.model_validate_json(line) for line in handle if line.strip()
            )
    return documents


def measure_parsers(
    corpus: Path, *, repetitions: int = 20, article_passes: int = 300
) -> ParserRates:
    """The median pass of each parser, with as many passes as `attrition eval` times (a
    median of 5 moved by a fifth between runs on a shared machine)."""
    reports = _corpus_reports(corpus) if (corpus / "reports").is_dir() else []
    report_source = f"{len(reports)} corpus reports" if reports else ""
    if not reports:
        reports = report_series(400, id_prefix="parse")
        report_source = f"{len(reports)} generated reports"
    report_rate = measure_throughput(reports, repetitions=repetitions, today=date.today())

    articles = (
        [doc for _, doc, _ in load_articles(corpus)] if (corpus / "articles").is_dir() else []
    )
    article_source = f"{len(articles)} corpus articles" if articles else ""
    if not articles:
        articles = [
            RawDocument(
                id="generated-article",
                kind=DocumentKind.article,
                published=date(2023, 3, 1),
                text=GENERATED_ARTICLE,
            )
        ]
        article_source = "1 generated article"
    article_rate = article_throughput(articles, article_passes)
    return ParserRates(report_rate, report_source, article_rate, article_source)
