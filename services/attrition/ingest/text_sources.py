"""Plain-text and HTML files (or stdin) → RawDocuments, one document per file.

The producer side of `attrition publish --format text|html`. A file that cannot become a
document (not UTF-8, empty, over the size limit) is rejected here with its reason: unlike a
JSON line, there is no raw message a consumer could learn from on the dead-letter topic."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from attrition.contracts.events import RawDocument
from attrition.contracts.vocabulary import DocumentKind
from attrition.contracts.wire import encode
from attrition.ingest.document_files import OutgoingMessage, classify_line, read_messages
from attrition.ingest.document_ids import document_id, normalise_text
from attrition.ingest.html_text import html_to_text


class InputFormat(StrEnum):
    jsonl = "jsonl"
    text = "text"
    html = "html"


@dataclass(frozen=True)
class Rejected:
    source: str
    reason: str

    def line(self) -> str:
        return f"{self.source}: {self.reason}"


def parse_date(value: str | None) -> date | None:
    """An ISO date or date-time as pages and feeds state them; None when unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _read_bytes(path: str) -> tuple[bytes, date]:
    if path == "-":
        return sys.stdin.buffer.read(), date.today()
    file = Path(path)
    return file.read_bytes(), datetime.fromtimestamp(file.stat().st_mtime).date()


def text_document(
    path: str,
    data: bytes,
    *,
    fmt: InputFormat,
    kind: DocumentKind,
    published: date,
    max_bytes: int,
) -> RawDocument | Rejected:
    """One file's bytes as a RawDocument; `published` applies unless the HTML states a date."""
    source, name = ("stdin", None) if path == "-" else ("file", Path(path).name)
    title = lang = None
    if fmt is InputFormat.html:
        page = html_to_text(data)
        text, title, lang = page.text, page.title, page.lang
        published = parse_date(page.published) or published
    else:
        try:
            text = normalise_text(data.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            return Rejected(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    if not text:
        return Rejected(path, "no text")
    doc = RawDocument(
        id=document_id(source, name, text),
        kind=kind,
        published=published,
        title=title[:2000] if title else None,
        lang=lang,
        text=text,
    )
    size = len(encode(doc))
    if size > max_bytes:
        return Rejected(path, f"{size} bytes as a document, over the limit of {max_bytes}")
    return doc


def read_documents(
    paths: list[str],
    *,
    fmt: InputFormat,
    kind: DocumentKind = DocumentKind.report,
    published: date | None = None,
    max_bytes: int = 1_000_000,
) -> Iterator[OutgoingMessage | Rejected]:
    """Messages to publish from every path, in order; JSON lines pass through untouched."""
    if fmt is InputFormat.jsonl:
        yield from read_messages(paths)
        return
    for path in paths:
        try:
            data, modified = _read_bytes(path)
        except OSError as exc:
            yield Rejected(path, f"unreadable: {exc.strerror or exc}")
            continue
        doc = text_document(
            path, data, fmt=fmt, kind=kind, published=published or modified, max_bytes=max_bytes
        )
        yield doc if isinstance(doc, Rejected) else classify_line(encode(doc))
