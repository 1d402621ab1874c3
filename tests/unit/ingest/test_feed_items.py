from datetime import date

import pytest

from attrition.ingest.feed_items import FeedError, parse_feed

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>News</title>
<item><title>Losses on 5 January</title><link>/news/2023-01-05</link>
<pubDate>Thu, 05 Jan 2023 08:00:00 +0200</pubDate></item>
<item><title>No link, permalink guid</title><guid>https://other.example/p/1</guid></item>
<item><title>No link at all</title><guid isPermaLink="false">abc</guid></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>News</title>
<entry><title>Report</title>
<link rel="self" href="https://site.example/feed/1"/>
<link href="https://site.example/news/1"/>
<updated>2023-01-06T10:00:00Z</updated></entry>
<entry><title>Second</title><link rel="alternate" href="news/2"/></entry>
</feed>"""


def test_rss_items_give_absolute_links_titles_and_dates() -> None:
    items = parse_feed(RSS, "https://site.example/rss.xml")
    assert [(i.link, i.title, i.published) for i in items] == [
        ("https://site.example/news/2023-01-05", "Losses on 5 January", date(2023, 1, 5)),
        ("https://other.example/p/1", "No link, permalink guid", None),
    ]


def test_atom_entries_use_their_alternate_link() -> None:
    items = parse_feed(ATOM, "https://site.example/feeds/atom.xml")
    assert [(i.link, i.published) for i in items] == [
        ("https://site.example/news/1", date(2023, 1, 6)),
        ("https://site.example/feeds/news/2", None),
    ]


def test_the_item_limit_keeps_the_first_items() -> None:
    assert len(parse_feed(ATOM, "https://site.example/", limit=1)) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><body>not a feed</body></html>", "not an RSS or Atom feed"),
        (b'{"json": true}', "not XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss>&a;</rss>',
            "declares XML entities",
        ),
    ],
)
def test_what_is_not_a_feed_is_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse_feed(data, "https://site.example/")
