"""HTML page → clean text, one line per block, with selectolax (the lexbor HTML5 parser).

Report pages put each figure in its own block (`<li>`, `<p>`, `<br>`), and the report parser
reads one figure per line: so blocks become lines, while inline markup (`<b>3150</b>`) stays
inside its line. Navigation, scripts and other chrome are dropped; when the page marks its
content (`<article>`, `<main>`), only that is kept."""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from attrition.ingest.document_ids import normalise_text

_DROPPED = (
    "script, style, noscript, template, svg, iframe, nav, header, footer, aside, form, "
    "button, select, [hidden], [aria-hidden=true]"
)
_CONTENT = ("article", "main", "[role=main]")
_BLOCKS = frozenset(
    {"address", "article", "aside", "dd", "div", "dl", "dt", "fieldset", "figcaption"}
    | {"figure", "hr", "li", "main", "ol", "pre", "section", "tbody", "thead", "tfoot", "tr"}
    | {"ul", "body", "html"}
)
# Paragraph-like blocks end with a blank line, which the article extractor reads as a break.
_PARAGRAPHS = frozenset({"blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "p", "table"})
_CELLS = frozenset({"td", "th"})
_SPACES = re.compile(r"[^\S\n]+")


@dataclass(frozen=True)
class PageText:
    text: str
    title: str | None
    lang: str | None
    published: str | None  # as the page states it (meta tags), unparsed


def _meta(tree: LexborHTMLParser, *selectors: str) -> str | None:
    for selector in selectors:
        node = tree.css_first(selector)
        if node is not None:
            value = node.attributes.get("content") or node.attributes.get("datetime")
            if value and value.strip():
                return value.strip()
    return None


def _collect(node: LexborNode, out: list[str | int]) -> None:
    """Text pieces, and line breaks as ints (1: new line, 2: blank line)."""
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            out.append(_SPACES.sub(" ", child.text_content or ""))
        elif tag == "br":
            out.append(1)
        elif tag in _CELLS:
            out.append(" ")
            _collect(child, out)
            out.append(" ")
        elif tag in _BLOCKS or tag in _PARAGRAPHS:
            strength = 2 if tag in _PARAGRAPHS else 1
            out.extend((strength, *_collected(child), strength))
        elif tag is not None and not tag.startswith("-"):
            _collect(child, out)


def _collected(node: LexborNode) -> list[str | int]:
    out: list[str | int] = []
    _collect(node, out)
    return out


def _join(pieces: list[str | int]) -> str:
    """Adjacent block edges make one break (the stronger), not one per edge."""
    text: list[str] = []
    pending = 0
    for piece in pieces:
        if isinstance(piece, int):
            pending = max(pending, piece)
        elif pending and not piece.strip():
            continue  # whitespace between blocks
        else:
            if pending and text:
                text.append("\n" * pending)
                piece = piece.lstrip()
            pending = 0
            text.append(piece)
    return "".join(text)


def html_to_text(html: str | bytes) -> PageText:
    tree = LexborHTMLParser(html)
    root = tree.css_first("html")
    lang = (root.attributes.get("lang") or None) if root is not None else None
    title_node = tree.css_first("title")
    title = _meta(tree, "meta[property='og:title']") or (
        title_node.text(strip=True) if title_node is not None else None
    )
    published = _meta(
        tree,
        "meta[property='article:published_time']",
        "meta[name=date]",
        "meta[itemprop=datePublished]",
        "time[datetime]",
    )
    for node in tree.css(_DROPPED):
        node.decompose()
    content = next((n for s in _CONTENT if (n := tree.css_first(s)) is not None), None)
    start = content or tree.body
    return PageText(
        text=normalise_text(_join(_collected(start)) if start is not None else ""),
        title=title or None,
        lang=lang.strip()[:16] if lang else None,
        published=published,
    )
