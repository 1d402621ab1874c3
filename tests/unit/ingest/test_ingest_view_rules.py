"""The rules of POST /documents, without the server (the integration test has the server)."""

import orjson
import pytest

from attrition.stream.ingest_views import Refusal, check_token, documents_from_body

DOC = {"id": "d1", "kind": "report", "published": "2023-01-05", "text": "tanks ‒ 3000 (+7)"}


def _refusal(call: object, *args: object, **kwargs: object) -> Refusal:
    with pytest.raises(Refusal) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


def test_tokens() -> None:
    check_token("Bearer s3cret", "s3cret")
    check_token("bearer  s3cret ", "s3cret")
    assert _refusal(check_token, None, "s3cret").status == 401
    assert _refusal(check_token, "Basic czNjcmV0", "s3cret").status == 401
    assert _refusal(check_token, "Bearer nope", "s3cret").status == 403
    unset = _refusal(check_token, "Bearer s3cret", None)
    assert unset.status == 403 and "not configured" in unset.body["error"]


def _read(body: bytes, max_documents: int = 10, max_document_bytes: int = 10_000) -> list:
    return documents_from_body(
        body, max_documents=max_documents, max_document_bytes=max_document_bytes
    )


def test_one_document_or_a_batch() -> None:
    assert [d.id for d in _read(orjson.dumps(DOC))] == ["d1"]
    assert [d.id for d in _read(orjson.dumps([DOC, {**DOC, "id": "d2"}]))] == ["d1", "d2"]


def test_a_document_without_id_gets_one_from_its_url_and_text() -> None:
    doc = {k: v for k, v in DOC.items() if k != "id"} | {"url": "https://a.example/1"}
    [first] = _read(orjson.dumps(doc))
    [second] = _read(orjson.dumps(doc))
    assert first.id.startswith("http:") and first.id == second.id


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "body is not JSON"),
        (b'"a string"', 400, "expected a RawDocument"),
        (b"[]", 422, "empty batch"),
        (orjson.dumps([DOC] * 11), 413, "11 documents in one batch"),
        (orjson.dumps({**DOC, "kind": "poem"}), 422, "invalid document"),
        (orjson.dumps({**DOC, "text": "x" * 20_000}), 413, "document 0 is"),
    ],
)
def test_what_is_refused_and_why(body: bytes, status: int, error: str) -> None:
    refusal = _refusal(_read, body)
    assert refusal.status == status
    assert refusal.body["error"].startswith(error)


def test_invalid_documents_are_all_listed_with_their_index() -> None:
    refusal = _refusal(_read, orjson.dumps([DOC, {**DOC, "published": "soon"}, 7]))
    assert {(p["index"], p["loc"]) for p in refusal.body["problems"]} == {
        (1, "published"),
        (2, ""),
    }
