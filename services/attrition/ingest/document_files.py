"""Read raw messages from JSON-lines files or stdin, as the bytes a producer will send.

Lines are kept as they are, even when they are not valid documents: judging them is the parse
stage's job, and a bad line must end on the dead-letter topic with its reason, not vanish here."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from attrition.contracts.events import stable_id
from attrition.contracts.vocabulary import DocumentKind


@dataclass(frozen=True)
class OutgoingMessage:
    key: bytes
    value: bytes
    kind: DocumentKind
    document_id: str | None


#: Every report shares one key, so reports reach the parser, and their figures the totals
#: stage, in the order they were published: a day's delta is then computed once, instead of
#: a first version and a correction when reports on different partitions overtake each other.
#: Articles carry no running order and spread over partitions by id.
REPORT_STREAM_KEY = b"reports"


def classify_line(line: bytes) -> OutgoingMessage:
    """Reports on the report stream key; anything else keyed by its id, or by a hash of its
    bytes when it has none (deterministic either way)."""
    doc_id: str | None = None
    kind = DocumentKind.report
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        if isinstance(data.get("id"), str) and data["id"]:
            doc_id = data["id"][:200]
        if data.get("kind") == DocumentKind.article.value:
            kind = DocumentKind.article
    if kind is DocumentKind.report:
        key = REPORT_STREAM_KEY
    else:
        key = (doc_id or "unidentified:" + stable_id("line", line.hex())).encode()
    return OutgoingMessage(key=key, value=line, kind=kind, document_id=doc_id)


def read_lines(path: str | Path) -> Iterator[bytes]:
    """Non-empty lines of a JSON-lines file (`-` is stdin), trailing newline removed."""
    stream = sys.stdin.buffer if str(path) == "-" else open(path, "rb")  # noqa: SIM115
    try:
        for raw in stream:
            line = raw.rstrip(b"\r\n")
            if line.strip():
                yield line
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def read_messages(paths: list[str]) -> Iterator[OutgoingMessage]:
    for path in paths:
        for line in read_lines(path):
            yield classify_line(line)
