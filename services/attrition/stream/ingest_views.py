"""`POST /documents` on the worker: push RawDocuments over HTTP instead of Kafka.

Body: one RawDocument as JSON, or a JSON array of them (a batch, all or nothing). A document
without an `id` gets one derived from its URL and text, as every producer does. Each is sent to
its raw topic through the worker's own producer, keyed as every producer keys it (reports on
the one report stream key, articles by id), and acknowledged by the broker before the answer:
202 means it is on the topic. Every write needs the bearer token
`ATTRITION_INGEST__TOKEN`; without one configured the endpoint refuses all writes."""

from __future__ import annotations

import asyncio
import hmac
from typing import TYPE_CHECKING, Any

import orjson
from faust.web import View
from pydantic import ValidationError

from attrition.contracts.events import RawDocument
from attrition.contracts.vocabulary import DocumentKind
from attrition.contracts.wire import encode, headers_for
from attrition.ingest.document_files import classify_line
from attrition.ingest.document_ids import document_id

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

_RAW_HEADERS = headers_for(RawDocument)


class Refusal(Exception):
    """An answer other than 202: its status and what the client got wrong."""

    def __init__(self, status: int, error: str, **detail: Any) -> None:
        super().__init__(error)
        self.status = status
        self.body = {"error": error, **detail}


def check_token(authorization: str | None, configured: str | None) -> None:
    if not configured:
        raise Refusal(
            403, "ingest token not configured: set ATTRITION_INGEST__TOKEN to accept writes"
        )
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Refusal(401, "missing bearer token: send 'Authorization: Bearer <token>'")
    if not hmac.compare_digest(given.strip().encode(), configured.encode()):
        raise Refusal(403, "wrong token")


def documents_from_body(
    body: bytes, *, max_documents: int, max_document_bytes: int
) -> list[RawDocument]:
    """The batch, validated whole: one bad document refuses them all, with every error listed."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refusal(400, f"body is not JSON: {exc}") from None
    if not isinstance(data, dict | list):
        raise Refusal(400, "expected a RawDocument object or an array of them")
    items = data if isinstance(data, list) else [data]
    if not items:
        raise Refusal(422, "empty batch")
    if len(items) > max_documents:
        raise Refusal(413, f"{len(items)} documents in one batch; the limit is {max_documents}")
    documents: list[RawDocument] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append({"index": index, "loc": "", "msg": "not a JSON object"})
            continue
        if "id" not in item and isinstance(item.get("text"), str):
            url = item.get("url") if isinstance(item.get("url"), str) else None
            item = {**item, "id": document_id("http", url, item["text"])}
        try:
            documents.append(RawDocument.model_validate(item))
        except ValidationError as exc:
            problems.extend(
                {"index": index, "loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]}
                for e in exc.errors()[:10]
            )
    if problems:
        raise Refusal(422, "invalid document", problems=problems[:50])
    for index, doc in enumerate(documents):
        size = len(encode(doc))
        if size > max_document_bytes:
            raise Refusal(
                413, f"document {index} is {size} bytes; the limit is {max_document_bytes}"
            )
    return documents


async def read_body(request: Any, limit: int) -> bytes:
    """The request body, refused as soon as it passes `limit` (before reading all of it)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise Refusal(413, f"body of {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.content.iter_any():
        body.extend(chunk)
        if len(body) > limit:
            raise Refusal(413, f"body over the limit of {limit} bytes")
    return bytes(body)


def register(app: AttritionApp) -> None:
    settings = app.settings
    topics = {
        DocumentKind.report: app.topic(
            settings.topics.raw_reports, key_serializer="raw", value_serializer="raw"
        ),
        DocumentKind.article: app.topic(
            settings.topics.raw_articles, key_serializer="raw", value_serializer="raw"
        ),
    }
    ingest, limits = settings.ingest, settings.limits
    token = ingest.token.get_secret_value() if ingest.token else None

    async def accept(request: Any) -> list[str]:
        check_token(request.headers.get("Authorization"), token)
        body = await read_body(request, ingest.max_batch_bytes)
        documents = documents_from_body(
            body,
            max_documents=ingest.max_batch_documents,
            max_document_bytes=limits.max_document_bytes,
        )
        messages = [classify_line(encode(doc)) for doc in documents]
        sent = [
            await topics[m.kind].send(key=m.key, value=m.value, headers=_RAW_HEADERS)
            for m in messages
        ]
        try:
            await asyncio.gather(*sent)
        except Exception as exc:
            raise Refusal(503, f"the broker did not acknowledge: {type(exc).__name__}") from exc
        return [doc.id for doc in documents]

    @app.page("/documents")
    class Documents(View):
        async def post(self, request: Any) -> Any:
            try:
                ids = await accept(request)
            except Refusal as refusal:
                headers = {"WWW-Authenticate": "Bearer"} if refusal.status == 401 else None
                return self.json(refusal.body, status=refusal.status, headers=headers)
            return self.json({"accepted": ids}, status=202)
