from attrition.ingest.html_text import html_to_text

PAGE = """<!doctype html>
<html lang="en"><head><title>Site title</title>
<meta property="og:title" content="Losses on 5 January">
<meta property="article:published_time" content="2023-01-05T09:00:00+02:00">
<script>var tracking = 1;</script><style>p {color: red}</style></head>
<body><nav><a href="/">Home</a> | <a href="/news">News</a></nav>
<header>Ministry of Defence</header>
<article><h1>Losses</h1>
<p>The total combat losses of the enemy from 24.02.22 to 05.01.23 were approximately:</p>
<ul><li>personnel ‒ about <strong>110650</strong> (+650) persons,</li>
<li>tanks ‒ 3007 (+7),</li></ul>
<p>The data are<br>being updated.</p></article>
<aside>Related: <a href="/x">other news</a></aside><footer>© 2023</footer></body></html>"""


def test_blocks_become_lines_and_inline_markup_stays_in_its_line() -> None:
    page = html_to_text(PAGE)
    assert page.text.splitlines() == [
        "Losses",
        "",
        "The total combat losses of the enemy from 24.02.22 to 05.01.23 were approximately:",
        "",
        "personnel ‒ about 110650 (+650) persons,",
        "tanks ‒ 3007 (+7),",
        "",
        "The data are",
        "being updated.",
    ]


def test_chrome_scripts_and_styles_are_dropped() -> None:
    text = html_to_text(PAGE).text
    for unwanted in ("Home", "tracking", "color", "Ministry", "Related", "©"):
        assert unwanted not in text


def test_title_language_and_date_come_from_the_page() -> None:
    page = html_to_text(PAGE)
    assert (page.title, page.lang, page.published) == (
        "Losses on 5 January",
        "en",
        "2023-01-05T09:00:00+02:00",
    )


def test_a_page_without_article_markup_keeps_its_body_and_table_cells_stay_on_a_row() -> None:
    page = html_to_text(
        "<html><body><div>tanks</div><table><tr><td>3007</td><td>(+7)</td></tr></table></body>"
    )
    assert page.text == "tanks\n\n3007 (+7)"
    assert page.title is None and page.lang is None


def test_an_empty_page_has_no_text() -> None:
    assert html_to_text(b"").text == ""
