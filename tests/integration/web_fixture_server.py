"""A real HTTP server on a free loopback port, serving pages the tests write.

It honours conditional GET (ETag and Last-Modified) the way a news site does, counts what it
answered, and can be told to fail a path a few times first (to exercise retries)."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAST_MODIFIED = "Wed, 04 Jan 2023 08:00:00 GMT"


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    etag: bool = True  # False: only Last-Modified validates it


@dataclass
class SiteState:
    pages: dict[str, Page] = field(default_factory=dict)
    failures: dict[str, list[int]] = field(default_factory=dict)  # path → statuses to answer first
    answered: Counter[int] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    conditional: Counter[str] = field(default_factory=Counter)  # requests with a validator
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(site: SiteState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

        def _answer(self, status: int, page: Page | None = None, tag: str | None = None) -> None:
            with site.lock:
                site.answered[status] += 1
            self.send_response(status)
            if page is not None:
                if tag:
                    self.send_header("ETag", tag)
                self.send_header("Last-Modified", LAST_MODIFIED)
            body = page.body if page is not None and status == 200 else b""
            if status == 200 and page is not None:
                self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path
            with site.lock:
                site.requests[path] += 1
                pending = site.failures.get(path)
                failure = pending.pop(0) if pending else None
                page = site.pages.get(path)
            if failure is not None:
                self._answer(failure)
                return
            if page is None:
                self._answer(404)
                return
            tag = '"' + hashlib.sha1(page.body).hexdigest() + '"' if page.etag else None
            if_none_match = self.headers.get("If-None-Match")
            if_modified_since = self.headers.get("If-Modified-Since")
            if if_none_match or if_modified_since:
                with site.lock:
                    site.conditional[path] += 1
            unchanged = (
                if_none_match == tag
                if tag and if_none_match
                else if_modified_since == LAST_MODIFIED
            )
            self._answer(304 if unchanged else 200, page, tag)

    return Handler


@contextmanager
def web_site(pages: dict[str, Page] | None = None) -> Iterator[tuple[str, SiteState]]:
    """(base URL, state) of a running server; stopped on exit."""
    site = SiteState(pages=dict(pages or {}))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
