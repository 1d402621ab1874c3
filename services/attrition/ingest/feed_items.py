"""RSS 2.0 and Atom feeds → the items' links, titles and dates, with the standard library.

Tags are matched by local name, so RSS 1.0 (RDF) and namespaced variants read the same way."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from attrition.ingest.text_sources import parse_date


class FeedError(ValueError):
    pass


@dataclass(frozen=True)
class FeedItem:
    link: str
    title: str | None
    published: date | None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, *names: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) in names:
            return child
    return None


def _text(element: ET.Element, *names: str) -> str | None:
    child = _child(element, *names)
    text = (child.text or "").strip() if child is not None else ""
    return text or None


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).date()  # RSS: RFC 822 dates
    except (TypeError, ValueError):
        return parse_date(value)  # Atom: RFC 3339


def _link(item: ET.Element) -> str | None:
    for child in item:
        if _local(child.tag) != "link":
            continue
        href = child.get("href")
        if href is not None:  # Atom: the alternate link is the page
            if child.get("rel", "alternate") == "alternate":
                return href.strip() or None
        elif child.text and child.text.strip():
            return child.text.strip()
    guid = _child(item, "guid")
    if guid is not None and guid.get("isPermaLink", "true") == "true" and guid.text:
        return guid.text.strip()
    return None


def parse_feed(data: bytes, base_url: str, limit: int = 50) -> list[FeedItem]:
    """The first `limit` items that have a link, in feed order (newest first, by convention)."""
    # Feeds never need entity declarations; refusing them rules out entity-expansion bombs.
    if b"<!ENTITY" in data:
        raise FeedError("feed declares XML entities")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise FeedError(f"not XML: {exc}") from None
    if _local(root.tag) not in ("rss", "feed", "RDF"):
        raise FeedError(f"not an RSS or Atom feed (root element <{_local(root.tag)}>)")
    items: list[FeedItem] = []
    for element in root.iter():
        if _local(element.tag) not in ("item", "entry"):
            continue
        link = _link(element)
        if not link:
            continue
        items.append(
            FeedItem(
                link=urljoin(base_url, link),
                title=_text(element, "title"),
                published=_date(_text(element, "pubDate", "published", "updated", "date")),
            )
        )
        if len(items) >= limit:
            break
    return items
