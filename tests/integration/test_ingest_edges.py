"""Both edges through a real broker and a real worker process: the web poller against a local
site, POST /documents on the worker, and GET /deltas/stream while reports flow."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import orjson
import pytest
from pydantic import SecretStr

from attrition.contracts.events import DeltaEvent, RawDocument
from attrition.contracts.vocabulary import Category, DocumentKind
from attrition.ingest.settings import IngestSettings, WebSource
from attrition.ingest.web_poller import WebPoller
from attrition.settings import Settings
from attrition.stream.worker_process import WorkerProcess, wait_until_idle
from isolated_settings import isolated_settings
from pipeline_helpers import publish_docs, read_loss_events, read_topic
from report_fixtures import LABELS, figures_for, render_report
from web_fixture_server import Page, web_site

pytestmark = pytest.mark.integration

TOKEN = "edge-test-token"
FIRST_DAY = date(2023, 3, 1)
ARTICLE = (
    "As of March 2, Russia had lost 3,100 tanks, the General Staff said. Officials in Kyiv "
    "expect the figure to rise."
)


@pytest.fixture(scope="module")
def edge_settings(embedded_broker: object, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("edges")
    return isolated_settings(
        embedded_broker.url,  # type: ignore[attr-defined]
        tmp,
        ingest=IngestSettings(token=SecretStr(TOKEN), max_batch_bytes=64 * 1024),
    )


@pytest.fixture(scope="module")
def worker_url(edge_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One worker for the module: its web server (ingest, stream) and its agents."""
    log = tmp_path_factory.mktemp("edge-worker") / "worker.log"
    worker = WorkerProcess(edge_settings, log_path=log).start()
    url = f"http://{edge_settings.web_host}:{edge_settings.web_port}"
    try:
        _wait_until_ready(worker, url, log)
        yield url
    finally:
        assert worker.stop() == 0, log.read_text()[-3000:]


def _wait_until_ready(worker: WorkerProcess, url: str, log: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            if not worker.alive():
                pytest.fail("worker exited:\n" + log.read_text()[-3000:])
            try:
                if client.get(url + "/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # its web server is not up yet
            time.sleep(0.5)
    pytest.fail(f"worker not ready after {timeout_s:.0f} s:\n" + log.read_text()[-3000:])


def _report_page(as_of: date, index: int) -> bytes:
    previous = figures_for(index - 1) if index else None
    text = render_report(as_of, figures_for(index), previous)
    paragraphs = "".join(f"<p>{line}</p>" for line in text.splitlines() if line)
    return (
        f'<html lang="en"><head><title>Losses on {as_of}</title></head><body>'
        f"<nav><a href='/'>Home</a></nav><article>{paragraphs}</article></body></html>"
    ).encode()


def _feed(base: str, links: list[str], built: datetime) -> bytes:
    items = "".join(
        f"<item><title>{link}</title><link>{base}{link}</link>"
        f"<pubDate>{format_datetime(built)}</pubDate></item>"
        for link in links
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>'
        f"<lastBuildDate>{format_datetime(built)}</lastBuildDate>{items}</channel></rss>"
    ).encode()


async def test_the_poller_publishes_each_page_once_and_the_worker_parses_them(
    edge_settings: Settings, worker_url: str, tmp_path: Path
) -> None:
    days = [FIRST_DAY + timedelta(days=i) for i in range(3)]
    pages = {f"/reports/{day}.html": Page(_report_page(day, i)) for i, day in enumerate(days)}
    pages["/news/tanks.html"] = Page(
        f'<html lang="en"><body><article><h1>Tanks</h1><p>{ARTICLE}</p></article></body>'.encode(),
        etag=False,  # validated by Last-Modified alone
    )
    built = datetime(2023, 3, 3, 12, tzinfo=UTC)
    with web_site(pages) as (base, site):
        site.pages["/feed.xml"] = Page(_feed(base, list(pages), built), "application/rss+xml")
        settings = edge_settings.model_copy(
            update={
                "data_dir": str(tmp_path / "poller"),
                "ingest": IngestSettings(
                    feeds=[WebSource(url=base + "/feed.xml")], host_interval_s=0, backoff_s=0.05
                ),
            }
        )
        first = await WebPoller(settings).poll_once()
        assert (first.fetched, first.published, first.failed) == (5, 4, 0), first.errors

        # A restarted poller remembers: the unchanged feed is answered 304, nothing is sent.
        again = await WebPoller(settings).poll_once()
        assert (again.fetched, again.not_modified, again.published) == (0, 1, 0)
        # A rebuilt feed is fetched, but its unchanged pages are answered 304 each.
        site.pages["/feed.xml"] = Page(
            _feed(base, list(pages), built + timedelta(hours=1)), "application/rss+xml"
        )
        rebuilt = await WebPoller(settings).poll_once()
        assert (rebuilt.fetched, rebuilt.not_modified, rebuilt.published) == (1, 4, 0)
        assert site.answered[304] == 5
        assert all(site.conditional[path] == 1 for path in pages)

    topics = edge_settings.topics
    reports = [
        RawDocument.model_validate_json(v)
        for _, v in await read_topic(settings, topics.raw_reports)
    ]
    articles = [
        RawDocument.model_validate_json(v)
        for _, v in await read_topic(settings, topics.raw_articles)
    ]
    polled_reports = [d for d in reports if d.url and d.url.startswith(base)]
    polled_articles = [d for d in articles if d.url and d.url.startswith(base)]
    assert len(polled_reports) == 3 and len(polled_articles) == 1
    assert all(d.id.startswith("web:") for d in polled_reports + polled_articles)

    await wait_until_idle(edge_settings, timeout_s=120)
    losses = [event for _, event in await read_loss_events(edge_settings)]
    for i, day in enumerate(days):
        [doc] = [d for d in polled_reports if d.url.endswith(f"/reports/{day}.html")]
        events = [e for e in losses if e.source_id == doc.id]
        assert {e.category: e.total for e in events} == figures_for(i)
        assert {e.as_of for e in events} == {day}
    [article] = polled_articles
    article_events = [e for e in losses if e.source_id == article.id]
    assert [(e.category, e.total, e.source_kind) for e in article_events] == [
        (Category.tanks, 3100, DocumentKind.article)
    ]


def _sse_events(buffer: str) -> tuple[list[dict[str, str]], str]:
    """Complete events in `buffer` (fields by name), and what is left of an unfinished one."""
    events = []
    *blocks, rest = buffer.replace("\r\n", "\n").split("\n\n")
    for block in blocks:
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        if "data" in fields:
            events.append(fields)
    return events, rest


async def test_the_delta_stream_shows_deltas_as_reports_arrive(
    edge_settings: Settings, worker_url: str
) -> None:
    days = [FIRST_DAY + timedelta(days=10 + i) for i in range(2)]
    reports = [
        RawDocument(
            id=f"sse-{day}",
            kind=DocumentKind.report,
            published=day,
            lang="en",
            text=render_report(day, figures_for(10 + i), figures_for(9 + i)),
        )
        for i, day in enumerate(days)
    ]
    expected = len(reports) * len(LABELS)
    received: list[DeltaEvent] = []

    async def read_stream(connected: asyncio.Event) -> None:
        timeout = httpx.Timeout(5, read=60)
        async with (
            httpx.AsyncClient(timeout=timeout) as client,
            client.stream("GET", worker_url + "/deltas/stream") as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            buffer = ""
            async for chunk in response.aiter_text():
                buffer += chunk
                if ": connected" in buffer:
                    connected.set()
                events, buffer = _sse_events(buffer)
                for event in events:
                    assert event["event"] == "delta"
                    delta = DeltaEvent.model_validate_json(event["data"])
                    assert event["id"] == delta.delta_id
                    if delta.source_id.startswith("sse-"):
                        received.append(delta)
                if len(received) >= expected:
                    return

    connected = asyncio.Event()
    reader = asyncio.create_task(read_stream(connected))
    await asyncio.wait_for(connected.wait(), timeout=30)
    summary = await publish_docs(edge_settings, reports)
    assert summary.sent == len(reports)
    await asyncio.wait_for(reader, timeout=90)
    tanks = sorted((d for d in received if d.category is Category.tanks), key=lambda d: d.as_of)
    assert [d.as_of for d in tanks] == days
    assert [d.total for d in tanks] == [
        figures_for(10)[Category.tanks],
        figures_for(11)[Category.tanks],
    ]
    assert {d.source_id for d in received} == {r.id for r in reports}


async def _post(url: str, body: bytes, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url + "/documents", content=body, headers=headers)


async def test_post_documents_accepts_a_good_document_onto_the_raw_topic(
    edge_settings: Settings, worker_url: str
) -> None:
    doc = {
        "kind": "article",
        "published": "2023-03-20",
        "url": "https://news.example/1",
        "text": "A quiet day on the front, officials said.",
    }
    response = await _post(worker_url, orjson.dumps(doc))
    assert response.status_code == 202, response.text
    [doc_id] = response.json()["accepted"]
    assert doc_id.startswith("http:")
    again = await _post(worker_url, orjson.dumps([doc]))
    assert again.status_code == 202 and again.json()["accepted"] == [doc_id]
    on_topic = await read_topic(edge_settings, edge_settings.topics.raw_articles)
    sent = [RawDocument.model_validate_json(v) for k, v in on_topic if k == doc_id.encode()]
    assert len(sent) == 2 and sent[0].text == doc["text"]


@pytest.mark.parametrize(
    ("body", "token", "status", "error"),
    [
        (b"{not json", TOKEN, 400, "body is not JSON"),
        (b'{"kind": "report"}', None, 401, "missing bearer token"),
        (b'{"kind": "report"}', "guess", 403, "wrong token"),
        (
            orjson.dumps({"kind": "report", "published": "2023-03-20", "text": "x" * 70_000}),
            TOKEN,
            413,
            "body of",
        ),
        (
            b'{"id": "x", "kind": "poem", "published": "2023-03-20", "text": "x"}',
            TOKEN,
            422,
            "invalid document",
        ),
    ],
)
async def test_post_documents_says_what_was_wrong(
    worker_url: str, body: bytes, token: str | None, status: int, error: str
) -> None:
    response = await _post(worker_url, body, token)
    assert response.status_code == status
    assert response.json()["error"].startswith(error)


def test_publish_text_files_counts_repeats_as_duplicates_and_rejects_empty_files(
    edge_settings: Settings, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from attrition.cli.main import app
    from attrition.cli.options import settings_env

    report = tmp_path / "gs-2023-03-25.txt"
    report.write_text(render_report(date(2023, 3, 25), figures_for(24), figures_for(23)))
    article = tmp_path / "news.txt"
    article.write_text(ARTICLE)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    args = ["publish", "--format", "text", "--published", "2023-03-25"]
    args += ["-i", str(report), "-i", str(report), "-i", str(empty)]
    result = CliRunner().invoke(app, args, env=settings_env(edge_settings))
    assert result.exit_code == 0, result.output
    assert "sent 1, duplicates 1, rejected 1" in result.output
    as_article = CliRunner().invoke(
        app,
        ["publish", "--format", "text", "--kind", "article", "-i", str(article)],
        env=settings_env(edge_settings),
    )
    assert "sent 1, duplicates 0, rejected 0" in as_article.output

    topics = edge_settings.topics
    raw_reports = asyncio.run(read_topic(edge_settings, topics.raw_reports))
    docs = [RawDocument.model_validate_json(v) for _, v in raw_reports]
    mine = [d for d in docs if d.id.startswith("file:")]
    assert [(d.published, d.kind) for d in mine] == [(date(2023, 3, 25), DocumentKind.report)]
    raw_articles = asyncio.run(read_topic(edge_settings, topics.raw_articles))
    assert any(RawDocument.model_validate_json(v).text == ARTICLE for _, v in raw_articles)
