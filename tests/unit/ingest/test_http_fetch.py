"""The fetcher against a real local HTTP server (tests/integration/web_fixture_server.py)."""

from __future__ import annotations

import pytest

from attrition.ingest.http_fetch import Fetcher, FetchError, Validators
from attrition.ingest.settings import IngestSettings
from web_fixture_server import Page, web_site

FAST = IngestSettings(retries=2, backoff_s=0.01, host_interval_s=0.0, timeout_s=5)


async def test_an_unchanged_page_is_answered_304_to_a_conditional_get() -> None:
    with web_site({"/a": Page(b"<p>hello</p>")}) as (base, site):
        async with Fetcher(FAST) as fetcher:
            first = await fetcher.get(base + "/a")
            again = await fetcher.get(base + "/a", first.validators)
    assert (first.status, first.body, first.not_modified) == (200, b"<p>hello</p>", False)
    assert first.validators.etag and first.validators.last_modified
    assert again.not_modified and again.body == b""
    assert again.validators == first.validators  # kept for the next poll
    assert site.answered[304] == 1 and site.conditional["/a"] == 1


async def test_last_modified_alone_validates_a_page_without_etag() -> None:
    with web_site({"/a": Page(b"x", etag=False)}) as (base, site):
        async with Fetcher(FAST) as fetcher:
            first = await fetcher.get(base + "/a")
            again = await fetcher.get(base + "/a", Validators.from_dict(first.validators.as_dict()))
    assert first.validators.etag is None
    assert again.not_modified and site.answered[304] == 1


async def test_a_busy_server_is_retried_until_it_answers() -> None:
    with web_site({"/a": Page(b"ok")}) as (base, site):
        site.failures["/a"] = [503, 429]
        async with Fetcher(FAST) as fetcher:
            fetched = await fetcher.get(base + "/a")
    assert (fetched.body, fetched.attempts) == (b"ok", 3)
    assert site.requests["/a"] == 3


async def test_retries_run_out_with_the_last_reason() -> None:
    with web_site({"/a": Page(b"ok")}) as (base, site):
        site.failures["/a"] = [502, 502, 502, 502]
        async with Fetcher(FAST) as fetcher:
            with pytest.raises(FetchError, match=r"HTTP 502 \(after 3 attempts\)"):
                await fetcher.get(base + "/a")
    assert site.requests["/a"] == 3


async def test_a_missing_page_is_not_retried() -> None:
    with web_site({}) as (base, site):
        async with Fetcher(FAST) as fetcher:
            with pytest.raises(FetchError, match="HTTP 404"):
                await fetcher.get(base + "/gone")
    assert site.requests["/gone"] == 1


async def test_a_page_over_the_size_limit_is_refused() -> None:
    settings = FAST.model_copy(update={"max_page_bytes": 1024})
    with web_site({"/big": Page(b"x" * 5000)}) as (base, _):
        async with Fetcher(settings) as fetcher:
            with pytest.raises(FetchError, match="larger than 1024 bytes"):
                await fetcher.get(base + "/big")


async def test_an_unreachable_host_fails_after_its_retries() -> None:
    from attrition.broker.embedded_broker import free_port

    async with Fetcher(FAST) as fetcher:
        with pytest.raises(FetchError, match="ConnectError"):
            await fetcher.get(f"http://127.0.0.1:{free_port()}/")
