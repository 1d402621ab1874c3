"""Polite HTTP GETs for the poller: conditional, retried with exponential backoff, rate-limited
per host, and size-capped.

Conditional GET (If-None-Match / If-Modified-Since) lets an unchanged page cost the source a
304 and us nothing; the validators are the caller's to remember (the poller keeps them in its
state file so a restart does not refetch)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from attrition.ingest.settings import IngestSettings

# Worth another try: the source is busy or briefly broken. Any other 4xx is our mistake or a
# gone page, and retrying would only add load.
_RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
_MAX_RETRY_AFTER_S = 60.0


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("etag", self.etag), ("last_modified", self.last_modified)) if v}

    @classmethod
    def from_dict(cls, data: dict[str, str] | None) -> Validators:
        data = data or {}
        return cls(etag=data.get("etag"), last_modified=data.get("last_modified"))


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int
    body: bytes  # empty when not modified
    content_type: str
    validators: Validators
    attempts: int

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    def __init__(self, url: str, reason: str, *, permanent: bool = False) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.permanent = permanent  # trying again later will not help (404, too large)


class HostRateLimit:
    """At most one request per `interval_s` to each host; other hosts are not held up."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, host: str) -> None:
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            delay = self._next.get(host, 0.0) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next[host] = loop.time() + self.interval_s


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return min(float(value), _MAX_RETRY_AFTER_S)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), _MAX_RETRY_AFTER_S)


class Fetcher:
    """One httpx client (connection reuse) with the retry, rate and size rules around it."""

    def __init__(self, settings: IngestSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.limit = HostRateLimit(settings.host_interval_s)
        self._client = client or httpx.AsyncClient(
            follow_redirects=True,
            timeout=settings.timeout_s,
            headers={"User-Agent": settings.user_agent},
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    async def get(self, url: str, validators: Validators | None = None) -> Fetched:
        host = urlsplit(url).netloc.lower()
        retries, backoff = self.settings.retries, self.settings.backoff_s
        reason = "no attempt made"
        for attempt in range(retries + 1):
            await self.limit.wait(host)
            wait_hint: float | None = None
            try:
                fetched = await self._get_once(url, validators, attempt + 1)
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            except _Retryable as exc:
                reason, wait_hint = exc.reason, exc.wait_s
            else:
                return fetched
            if attempt < retries:
                # Jitter keeps several pollers that failed together from retrying together.
                delay = backoff * 2**attempt * random.uniform(1.0, 1.25)
                await asyncio.sleep(max(delay, wait_hint or 0.0))
        raise FetchError(url, f"{reason} (after {retries + 1} attempts)")

    async def _get_once(self, url: str, validators: Validators | None, attempt: int) -> Fetched:
        previous = validators or Validators()
        headers = previous.headers()
        limit = self.settings.max_page_bytes
        async with self._client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status in _RETRYABLE:
                raise _Retryable(f"HTTP {status}", _retry_after(response))
            if status != 304 and not 200 <= status < 300:
                raise FetchError(url, f"HTTP {status}", permanent=True)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > limit:
                    raise FetchError(url, f"larger than {limit} bytes", permanent=True)
            return Fetched(
                url=str(response.url),
                status=status,
                body=bytes(body),
                content_type=response.headers.get("Content-Type", ""),
                validators=Validators(
                    etag=response.headers.get("ETag") or previous.etag,
                    last_modified=response.headers.get("Last-Modified") or previous.last_modified,
                ),
                attempts=attempt,
            )


class _Retryable(Exception):
    def __init__(self, reason: str, wait_s: float | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s
