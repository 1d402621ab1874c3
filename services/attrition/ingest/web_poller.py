"""Poll web sources (pages and RSS/Atom feeds) and publish what is new to the raw topics.

One poll: fetch every feed (conditionally), collect its items' links and the configured pages,
fetch those (conditionally), turn HTML into text, give each document its content-derived id,
publish the ones not published before, then remember validators and ids. A page that fails
for a passing reason (a timeout, a 503) keeps its feed's old validators, so the next poll
fetches the feed again and retries the page; a 404 does not hold the feed back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path

from attrition.contracts.events import RawDocument
from attrition.contracts.vocabulary import DocumentKind
from attrition.contracts.wire import encode
from attrition.ingest.document_files import OutgoingMessage, classify_line
from attrition.ingest.document_ids import document_id, normalise_text
from attrition.ingest.feed_items import FeedError, parse_feed
from attrition.ingest.html_text import html_to_text
from attrition.ingest.http_fetch import Fetched, Fetcher, FetchError, Validators
from attrition.ingest.poller_state import PollerState
from attrition.ingest.publisher import PublishSummary, publish
from attrition.ingest.text_sources import parse_date
from attrition.parse.report_parser import NotAReport, parse_report
from attrition.settings import Settings

log = logging.getLogger(__name__)

Publisher = Callable[[Iterable[OutgoingMessage], Settings], Awaitable[PublishSummary]]

# A General Staff bulletin lists a dozen categories; an article quoting a figure or two is not
# one, even when it quotes them in the bulletin's wording.
_REPORT_MIN_CATEGORIES = 5
_CONCURRENT_FETCHES = 4


@dataclass
class PollSummary:
    fetched: int = 0
    not_modified: int = 0
    published: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"fetched {self.fetched}, not modified {self.not_modified}, published "
            f"{self.published}, duplicates {self.duplicates}, failed {self.failed}"
        )


@dataclass(frozen=True)
class _Page:
    url: str
    kind: DocumentKind | None
    published: date | None
    feed: str | None


def looks_like_report(text: str, published: date) -> bool:
    probe = RawDocument(id="probe", kind=DocumentKind.report, published=published, text=text)
    try:
        events = parse_report(probe).events
    except NotAReport:
        return False
    return len({event.category for event in events}) >= _REPORT_MIN_CATEGORIES


def _header_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError):
        return None


def page_document(page: _Page, fetched: Fetched) -> RawDocument | None:
    """The fetched page as a RawDocument (None when it holds no text)."""
    title = lang = stated = None
    if "html" in fetched.content_type or fetched.body.lstrip()[:1] == b"<":
        extracted = html_to_text(fetched.body)
        text, title, lang, stated = (
            extracted.text,
            extracted.title,
            extracted.lang,
            extracted.published,
        )
    else:
        text = normalise_text(fetched.body.decode("utf-8", "replace"))
    if not text:
        return None
    published = (
        page.published
        or parse_date(stated)
        or _header_date(fetched.validators.last_modified)
        or date.today()
    )
    kind = page.kind or (
        DocumentKind.report if looks_like_report(text, published) else DocumentKind.article
    )
    return RawDocument(
        id=document_id("web", page.url, text),
        kind=kind,
        published=published,
        url=page.url[:2000],
        title=title[:2000] if title else None,
        lang=lang,
        text=text,
    )


class WebPoller:
    def __init__(self, settings: Settings, publisher: Publisher = publish) -> None:
        self.settings = settings
        self.publisher = publisher
        self.state_path = Path(settings.data_dir) / settings.ingest.state_file

    async def poll_once(self) -> PollSummary:
        ingest = self.settings.ingest
        state = PollerState.load(self.state_path)
        summary = PollSummary()
        learned: dict[str, Validators] = {}
        pages: dict[str, _Page] = {}
        failed_feeds: set[str] = set()
        async with Fetcher(ingest) as fetcher:
            for feed in ingest.feeds:
                try:
                    fetched = await fetcher.get(feed.url, state.validators_for(feed.url))
                    if fetched.not_modified:
                        summary.not_modified += 1
                        continue
                    summary.fetched += 1
                    items = parse_feed(fetched.body, fetched.url, ingest.max_feed_items)
                except (FetchError, FeedError) as exc:
                    summary.failed += 1
                    summary.errors.append(f"{feed.url}: {exc}")
                    continue
                learned[feed.url] = fetched.validators
                for item in items:
                    page = _Page(item.link, feed.kind, item.published, feed.url)
                    pages.setdefault(item.link, page)
            for source in ingest.urls:
                pages.setdefault(source.url, _Page(source.url, source.kind, None, None))

            gate = asyncio.Semaphore(_CONCURRENT_FETCHES)

            async def fetch(page: _Page) -> tuple[_Page, Fetched | FetchError]:
                async with gate:
                    try:
                        return page, await fetcher.get(page.url, state.validators_for(page.url))
                    except FetchError as exc:
                        return page, exc

            results = await asyncio.gather(*(fetch(page) for page in pages.values()))

        messages: list[OutgoingMessage] = []
        new_ids: dict[str, str] = {}
        for page, outcome in results:
            if isinstance(outcome, FetchError):
                summary.failed += 1
                summary.errors.append(str(outcome))
                if page.feed and not outcome.permanent:
                    failed_feeds.add(page.feed)
                continue
            if outcome.not_modified:
                summary.not_modified += 1
                continue
            summary.fetched += 1
            learned[page.url] = outcome.validators
            doc = page_document(page, outcome)
            if doc is None:
                continue
            if doc.id in state.published or doc.id in new_ids:
                summary.duplicates += 1
                continue
            new_ids[doc.id] = page.url
            messages.append(classify_line(encode(doc)))
        for feed_url in failed_feeds:
            learned.pop(feed_url, None)

        if messages:
            sent = await self.publisher(messages, self.settings)
            summary.published += sent.sent
            summary.duplicates += sent.duplicates
        state.remember(learned, new_ids)
        state.save(self.state_path)
        return summary

    async def run(
        self, stop: asyncio.Event, on_poll: Callable[[PollSummary], None] | None = None
    ) -> None:
        """Poll every `poll_interval_s` until `stop` is set; a failed poll is logged, not fatal."""
        while not stop.is_set():
            try:
                summary = await self.poll_once()
            except Exception:  # the broker may be down: try again at the next interval
                log.exception("poll failed")
            else:
                if on_poll is not None:
                    on_poll(summary)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.ingest.poll_interval_s)
