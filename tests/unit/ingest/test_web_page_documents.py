from datetime import date

from attrition.contracts.vocabulary import DocumentKind
from attrition.ingest.http_fetch import Fetched, Validators
from attrition.ingest.web_poller import _Page, looks_like_report, page_document
from report_fixtures import figures_for, render_report

REPORT = render_report(date(2023, 1, 5), figures_for(4), figures_for(3))
ARTICLE = (
    "Kyiv says Russia lost 650 soldiers and 7 tanks in the past day, according to the "
    "General Staff of Ukraine's armed forces."
)


def _fetched(body: str, content_type: str = "text/html") -> Fetched:
    return Fetched(
        url="https://site.example/p",
        status=200,
        body=body.encode(),
        content_type=content_type,
        validators=Validators(last_modified="Wed, 04 Jan 2023 08:00:00 GMT"),
        attempts=1,
    )


def _html(text: str) -> str:
    return "<html><body>" + "".join(f"<p>{line}</p>" for line in text.splitlines()) + "</body>"


def test_a_general_staff_bulletin_looks_like_a_report_and_an_article_does_not() -> None:
    assert looks_like_report(REPORT, date(2023, 1, 5))
    assert not looks_like_report(ARTICLE, date(2023, 1, 5))


def test_kind_comes_from_the_source_setting_before_the_heuristic() -> None:
    page = _Page("https://site.example/p", None, date(2023, 1, 5), None)
    assert page_document(page, _fetched(_html(REPORT))).kind is DocumentKind.report  # type: ignore[union-attr]
    assert page_document(page, _fetched(_html(ARTICLE))).kind is DocumentKind.article  # type: ignore[union-attr]
    forced = _Page("https://site.example/p", DocumentKind.article, None, None)
    assert page_document(forced, _fetched(_html(REPORT))).kind is DocumentKind.article  # type: ignore[union-attr]


def test_published_falls_back_to_last_modified_and_ids_follow_url_and_text() -> None:
    page = _Page("https://site.example/p", None, None, None)
    doc = page_document(page, _fetched(ARTICLE, "text/plain"))
    assert doc is not None
    assert doc.published == date(2023, 1, 4) and doc.url == "https://site.example/p"
    assert doc.id == page_document(page, _fetched(ARTICLE, "text/plain")).id  # type: ignore[union-attr]
    assert doc.id.startswith("web:")


def test_a_page_without_text_is_no_document() -> None:
    assert (
        page_document(_Page("https://site.example/p", None, None, None), _fetched("<p> </p>"))
        is None
    )
