"""`attrition parse`: documents in, loss events out, no Kafka."""

from __future__ import annotations

import sys

import typer

from attrition.contracts.wire import encode
from attrition.ingest.document_files import read_lines
from attrition.parse.document_parser import process_raw
from attrition.settings import Settings


def parse(
    input: str = typer.Option(..., "--input", "-i", help="JSON lines of RawDocument, or -"),
) -> None:
    """Print one LossEvent per line (JSON) on stdout; what could not be read goes to stderr."""
    limits = Settings().limits
    out = sys.stdout.buffer
    for number, line in enumerate(read_lines(input), start=1):
        outcome = process_raw(
            line,
            topic=f"{input}:{number}",
            max_bytes=limits.max_document_bytes,
            max_line_chars=limits.max_line_chars,
        )
        for event in outcome.events:
            out.write(encode(event) + b"\n")
        doc_id = outcome.document.id if outcome.document else f"line {number}"
        for warning in outcome.warnings:
            typer.echo(f"{doc_id}: warning: {warning}", err=True)
        if outcome.dead_letter is not None:
            letter = outcome.dead_letter
            typer.echo(f"{doc_id}: {letter.reason.value}: {letter.detail}", err=True)
    out.flush()
