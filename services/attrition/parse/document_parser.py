"""From a raw Kafka message to loss events or a dead letter that says why. Never raises.

The one entry point the parse agent (and `attrition parse`) calls: decoding, size limits,
validation and the choice of parser live here, so the agent only moves bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import orjson
from pydantic import ValidationError

from attrition.contracts.events import DeadLetter, LossEvent, RawDocument, stable_id
from attrition.contracts.vocabulary import DeadLetterReason, DocumentKind
from attrition.parse.article_extractor import extract_claims
from attrition.parse.report_parser import NotAReport, parse_report

_EXCERPT_CHARS = 500


@dataclass(frozen=True)
class ParseOutcome:
    """What became of one raw message: events, or a dead letter; warnings either way."""

    events: tuple[LossEvent, ...] = ()
    dead_letter: DeadLetter | None = None
    document: RawDocument | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


def dead_letter(
    reason: DeadLetterReason,
    detail: str,
    payload: bytes,
    topic: str,
    key: bytes | None,
    source_id: str | None = None,
) -> DeadLetter:
    """The record of a message that produced nothing, and why; its id is the same for the same
    message (topic, key and payload), so a redelivery gives the same dead letter."""
    key_text = key.decode("utf-8", "replace") if key is not None else None
    return DeadLetter(
        dead_letter_id=stable_id("dead", topic, key_text, hashlib_hex(payload)),
        reason=reason,
        detail=detail[:4000],
        source_topic=topic,
        source_key=key_text[:500] if key_text else None,
        source_id=source_id,
        payload_excerpt=payload[: _EXCERPT_CHARS * 4].decode("utf-8", "replace")[:_EXCERPT_CHARS],
        payload_size=len(payload),
        failed_at=datetime.now(UTC),
    )


def _dead(
    reason: DeadLetterReason,
    detail: str,
    payload: bytes,
    topic: str,
    key: bytes | None,
    document: RawDocument | None = None,
) -> ParseOutcome:
    letter = dead_letter(reason, detail, payload, topic, key, document.id if document else None)
    return ParseOutcome(dead_letter=letter, document=document)


def hashlib_hex(payload: bytes) -> str:
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def validation_summary(exc: ValidationError) -> str:
    """The first few of a validation's errors, each with where it was found, on one line."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "document"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def decode_document(
    payload: bytes, *, topic: str, key: bytes | None, max_bytes: int
) -> RawDocument | ParseOutcome:
    """Bytes → RawDocument, or the dead-letter outcome saying what was wrong with them."""
    if len(payload) > max_bytes:
        return _dead(
            DeadLetterReason.too_large,
            f"message of {len(payload)} bytes exceeds the limit of {max_bytes}",
            payload,
            topic,
            key,
        )
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _dead(DeadLetterReason.not_utf8, f"not UTF-8: {exc}", payload, topic, key)
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return _dead(DeadLetterReason.not_json, f"not JSON: {exc}", payload, topic, key)
    if not isinstance(data, dict):
        return _dead(
            DeadLetterReason.invalid_document,
            f"expected a JSON object (a RawDocument), got {type(data).__name__}",
            payload,
            topic,
            key,
        )
    try:
        return RawDocument.model_validate(data)
    except ValidationError as exc:
        return _dead(
            DeadLetterReason.invalid_document, validation_summary(exc), payload, topic, key
        )


def parse_document(
    doc: RawDocument, *, max_line_chars: int = 20_000, today: date | None = None
) -> tuple[tuple[LossEvent, ...], tuple[str, ...]]:
    """Run the parser for the document's kind. Raises NotAReport for a report that is none."""
    if doc.kind is DocumentKind.report:
        report = parse_report(doc, max_line_chars=max_line_chars, today=today)
        return report.events, report.warnings
    article = extract_claims(doc, max_line_chars=max_line_chars)
    return article.events, article.warnings


def process_raw(
    payload: bytes,
    *,
    topic: str,
    key: bytes | None = None,
    max_bytes: int = 1_000_000,
    max_line_chars: int = 20_000,
    today: date | None = None,
) -> ParseOutcome:
    decoded = decode_document(payload, topic=topic, key=key, max_bytes=max_bytes)
    if isinstance(decoded, ParseOutcome):
        return decoded
    doc = decoded
    try:
        events, warnings = parse_document(doc, max_line_chars=max_line_chars, today=today)
    except NotAReport as exc:
        return _dead(DeadLetterReason.not_a_report, str(exc), payload, topic, key, doc)
    except Exception as exc:  # a parser bug must cost one document, never the worker
        return _dead(
            DeadLetterReason.parser_error, f"{type(exc).__name__}: {exc}", payload, topic, key, doc
        )
    if not events:
        reason = (
            DeadLetterReason.no_claims
            if doc.kind is DocumentKind.article
            else DeadLetterReason.not_a_report
        )
        detail = "; ".join(warnings) or "no loss figures found in the text"
        return _dead(reason, detail, payload, topic, key, doc)
    return ParseOutcome(events=events, document=doc, warnings=warnings)
