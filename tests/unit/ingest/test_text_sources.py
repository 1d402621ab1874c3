import os
from datetime import date, datetime
from pathlib import Path

import orjson

from attrition.contracts.vocabulary import DocumentKind
from attrition.ingest.text_sources import InputFormat, Rejected, parse_date, read_documents
from report_fixtures import figures_for, render_report

REPORT = render_report(date(2023, 1, 5), figures_for(4), figures_for(3))


def _write(path: Path, data: str | bytes, modified: datetime | None = None) -> str:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if modified is not None:
        os.utime(path, (modified.timestamp(), modified.timestamp()))
    return str(path)


def test_a_text_file_becomes_one_document_dated_by_its_mtime(tmp_path: Path) -> None:
    path = _write(tmp_path / "gs.txt", REPORT.replace("\n", "\r\n"), datetime(2023, 1, 5, 9))
    [message] = read_documents([path], fmt=InputFormat.text)
    assert not isinstance(message, Rejected)
    doc = orjson.loads(message.value)
    assert doc["published"] == "2023-01-05"
    assert doc["kind"] == "report"
    assert doc["text"] == REPORT  # line ends normalised
    assert message.document_id == doc["id"] and doc["id"].startswith("file:")


def test_the_same_file_twice_gives_the_same_id_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path / "gs.txt", REPORT)
    first, second = read_documents([path, path], fmt=InputFormat.text)
    assert not isinstance(first, Rejected) and not isinstance(second, Rejected)
    assert first.key == second.key and first.value == second.value


def test_published_and_kind_options_win(tmp_path: Path) -> None:
    path = _write(tmp_path / "news.txt", "Russia lost 650 soldiers yesterday, Kyiv said.")
    [message] = read_documents(
        [path], fmt=InputFormat.text, kind=DocumentKind.article, published=date(2023, 2, 1)
    )
    assert not isinstance(message, Rejected)
    assert message.kind is DocumentKind.article
    assert message.key == message.document_id.encode()  # type: ignore[union-attr]
    assert orjson.loads(message.value)["published"] == "2023-02-01"


def test_html_files_are_read_as_their_text_and_stated_date(tmp_path: Path) -> None:
    body = "".join(f"<p>{line}</p>" for line in REPORT.splitlines() if line)
    html = (
        '<html lang="en"><head><title>Losses</title>'
        '<meta name="date" content="2023-01-05"></head><body>' + body + "</body></html>"
    )
    path = _write(tmp_path / "gs.html", html, datetime(2024, 3, 3))
    [message] = read_documents([path], fmt=InputFormat.html)
    assert not isinstance(message, Rejected)
    doc = orjson.loads(message.value)
    assert (doc["title"], doc["lang"], doc["published"]) == ("Losses", "en", "2023-01-05")
    report_lines = [line for line in REPORT.splitlines() if line]
    assert [line for line in doc["text"].splitlines() if line] == report_lines


def test_unusable_files_are_rejected_with_their_reason(tmp_path: Path) -> None:
    empty = _write(tmp_path / "empty.txt", "  \n\n")
    latin1 = _write(tmp_path / "latin1.txt", "pertes: 650 soldats tués".encode("latin-1"))
    huge = _write(tmp_path / "huge.txt", "x" * 5000)
    missing = str(tmp_path / "missing.txt")
    outcomes = list(
        read_documents([empty, latin1, huge, missing], fmt=InputFormat.text, max_bytes=2048)
    )
    assert all(isinstance(o, Rejected) for o in outcomes)
    reasons = [o.reason for o in outcomes if isinstance(o, Rejected)]
    assert reasons[0] == "no text"
    assert reasons[1].startswith("not UTF-8")
    assert "over the limit of 2048" in reasons[2]
    assert reasons[3].startswith("unreadable")


def test_json_lines_pass_through_untouched(tmp_path: Path) -> None:
    line = b'{"id": "a", "kind": "article", "published": "2023-01-01", "text": "x"}'
    path = _write(tmp_path / "docs.jsonl", line + b"\nnot json\n")
    outcomes = list(read_documents([path], fmt=InputFormat.jsonl))
    assert [o.value for o in outcomes if not isinstance(o, Rejected)] == [line, b"not json"]


def test_dates_as_pages_state_them() -> None:
    assert parse_date("2023-01-05T09:00:00Z") == date(2023, 1, 5)
    assert parse_date("2023-01-05") == date(2023, 1, 5)
    assert parse_date("5 January") is None
    assert parse_date(None) is None
