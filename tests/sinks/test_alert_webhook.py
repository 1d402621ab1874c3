"""The alert webhook against a real local HTTP server: retries, refusals, headers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import orjson
import pytest

from attrition.contracts.events import AlertEvent
from attrition.contracts.vocabulary import AlertKind, Category, Claimant, Severity, Subject
from attrition.sinks.alert_webhook import WebhookFailed, WebhookTarget, post_alert

ALERT = AlertEvent(
    alert_id="a1",
    kind=AlertKind.spike,
    claimant=Claimant.ua_general_staff,
    subject=Subject.russia,
    category=Category.tanks,
    as_of=date(2023, 10, 20),
    value=55,
    baseline=10.5,
    score=5.2,
    threshold=2.0,
    severity=Severity.critical,
    explanation="tanks +55 on 2023-10-20: 5.2× the 28-day median of 10.5",
)


class Receiver(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        status = type(self).answers.pop(0) if type(self).answers else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("R", (Receiver,), {"answers": [], "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    finally:
        server.shutdown()
        server.server_close()


async def test_retries_server_errors_then_delivers(receiver: tuple[str, type[Receiver]]) -> None:
    url, handler = receiver
    handler.answers = [503, 500]
    target = WebhookTarget(url=url, token="t0k", retries=3, backoff_s=0.01)
    async with httpx.AsyncClient() as client:
        assert await post_alert(client, target, ALERT) == 3
    headers, body = handler.received[-1]
    assert orjson.loads(body)["explanation"] == ALERT.explanation
    assert headers["Idempotency-Key"] == "a1"
    assert headers["Authorization"] == "Bearer t0k"


async def test_a_refusal_is_not_retried(receiver: tuple[str, type[Receiver]]) -> None:
    url, handler = receiver
    handler.answers = [400]
    async with httpx.AsyncClient() as client:
        with pytest.raises(WebhookFailed, match="HTTP 400"):
            await post_alert(client, WebhookTarget(url=url, backoff_s=0.01), ALERT)
    assert len(handler.received) == 1


async def test_gives_up_after_the_retries_when_nobody_listens() -> None:
    from attrition.broker.embedded_broker import free_port

    target = WebhookTarget(url=f"http://127.0.0.1:{free_port()}/", retries=2, backoff_s=0.01)
    async with httpx.AsyncClient() as client:
        with pytest.raises(WebhookFailed, match="after 3 tries"):
            await post_alert(client, target, ALERT)


def test_severity_threshold() -> None:
    target = WebhookTarget(url="http://x", min_severity=Severity.critical)
    assert target.wants(ALERT)
    assert not target.wants(ALERT.model_copy(update={"severity": Severity.warning}))
