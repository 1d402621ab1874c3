"""`attrition parse`: documents in, loss events out, no Kafka."""

from __future__ import annotations

import sys
from datetime import date

import typer

from attrition.contracts.events import LossEvent
from attrition.contracts.vocabulary import Category, Claimant, DocumentKind, Measure, Subject
from attrition.contracts.wire import encode
from attrition.ingest.document_files import read_lines
from attrition.parse.article_extractor import check_against_reports
from attrition.parse.document_parser import process_raw
from attrition.settings import Settings

ReportKey = tuple[Claimant, Subject, Category, date]


def _report_key(event: LossEvent) -> ReportKey | None:
    """The official figure an article claim can be checked against (personnel: casualties)."""
    if event.measure not in (None, Measure.casualties):
        return None
    return (event.claimant, event.subject, event.category, event.as_of)


def parse(
    input: str = typer.Option(..., "--input", "-i", help="JSON lines of RawDocument, or -"),
) -> None:
    """Print one LossEvent per line (JSON) on stdout; what could not be read goes to stderr.

    Article claims are printed last, each checked against the official report figures for its
    day found anywhere in the input (quality flag matches_report or contradicts_report)."""
    limits = Settings().limits
    out = sys.stdout.buffer
    official: dict[ReportKey, int] = {}
    articles: list[LossEvent] = []
    for number, line in enumerate(read_lines(input), start=1):
        outcome = process_raw(
            line,
            topic=f"{input}:{number}",
            max_bytes=limits.max_document_bytes,
            max_line_chars=limits.max_line_chars,
        )
        for event in outcome.events:
            if event.source_kind is DocumentKind.article:
                articles.append(event)
                continue
            key = _report_key(event)
            if event.official and event.total is not None and key is not None:
                official[key] = event.total
            out.write(encode(event) + b"\n")
        doc_id = outcome.document.id if outcome.document else f"line {number}"
        for warning in outcome.warnings:
            typer.echo(f"{doc_id}: warning: {warning}", err=True)
        if outcome.dead_letter is not None:
            letter = outcome.dead_letter
            typer.echo(f"{doc_id}: {letter.reason.value}: {letter.detail}", err=True)
    for event in articles:
        key = _report_key(event)
        checked = check_against_reports(event, official.get(key) if key else None)
        out.write(encode(checked) + b"\n")
    out.flush()
