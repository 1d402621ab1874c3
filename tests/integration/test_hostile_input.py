"""Hostile messages through the real broker: the worker keeps running, every one of them ends
on the dead-letter topic with a reason, and no secret leaks into logs, dead letters or the web."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from attrition.audit.collect import collect
from attrition.audit.ledger import RawMessage, audit
from attrition.broker.topic_admin import ensure_topics
from attrition.cli.options import settings_env
from attrition.contracts.batches import encode_loss_batch
from attrition.contracts.events import DeadLetter
from attrition.contracts.vocabulary import Category, DeadLetterReason
from attrition.ingest.settings import IngestSettings
from attrition.parse.document_parser import parse_document
from attrition.settings import KafkaSecurity, LimitSettings
from attrition.sinks.warehouse import open_warehouse
from attrition.stream.worker_process import WorkerProcess, wait_until_idle
from isolated_settings import isolated_settings
from pipeline_helpers import publish_docs, read_topic
from report_fixtures import report_series

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

MARKER = "s3cr3t-MARKER-7f1c"
TANKS = b"ua_general_staff/russia/tanks"
LIMIT = 4096


def _doc(text: str, **extra: object) -> bytes:
    return orjson.dumps(
        {"id": "hostile", "kind": "report", "published": "2023-01-10", "text": text, **extra}
    )


HOSTILE: dict[str, tuple[bytes, DeadLetterReason]] = {
    "invalid utf-8": (b"\xc3\x28 \xff\xfe", DeadLetterReason.not_utf8),
    "not json": (b"<html>not json</html>", DeadLetterReason.not_json),
    "deep nesting": (b"[" * 2000 + b"]" * 2000, DeadLetterReason.not_json),
    "huge number": (b"9" * 3000, DeadLetterReason.not_json),
    "too large": (_doc("A" * (LIMIT * 2)), DeadLetterReason.too_large),
    "a bare list": (b"[1, 2, 3]", DeadLetterReason.invalid_document),
    "no text": (orjson.dumps({"id": "t", "kind": "report"}), DeadLetterReason.invalid_document),
    "rtl override": (_doc("\u202e\u2067خسائر ‒ ٣٠٠٠\u2069\u202c"), DeadLetterReason.not_a_report),
    "control characters": (_doc("\x00\x1b[2J\x07\x08" * 20), DeadLetterReason.not_a_report),
    "thousand digits": (_doc("tanks ‒ " + "9" * 1000), DeadLetterReason.not_a_report),
    "wrong language": (_doc("chars ‒ 3000 (+7)\nhélicos ‒ 280"), DeadLetterReason.not_a_report),
}  # fmt: skip


async def test_hostile_messages_end_as_dead_letters_and_the_worker_keeps_going(
    embedded_broker: object, tmp_path: Path
) -> None:
    settings = isolated_settings(
        embedded_broker.url,  # type: ignore[attr-defined]
        tmp_path,
        limits=LimitSettings(max_document_bytes=LIMIT),
    )
    good = report_series(date(2023, 1, 1), 2, id_prefix="after-hostile")
    log = tmp_path / "worker.log"
    worker = WorkerProcess(settings, log_path=log).start()
    try:
        await publish_docs(settings, [payload for payload, _ in HOSTILE.values()])
        await publish_docs(settings, good)
        await wait_until_idle(settings, timeout_s=120, worker=worker)
        assert worker.alive()
        letters = {
            DeadLetter.model_validate_json(v).dead_letter_id: DeadLetter.model_validate_json(v)
            for _, v in await read_topic(settings, settings.topics.dead_letters)
        }
        report = audit((await collect(settings)).data)
    finally:
        assert worker.stop() == 0, log.read_text(errors="replace")[-3000:]
    topic = settings.topics.raw_reports
    for case, (payload, reason) in HOSTILE.items():
        # The raw key is whatever the publisher chose; find it as the parse stage would.
        found = [
            letters[m.dead_letter_id]
            for key in (b"reports", None)
            for m in [RawMessage.of(topic, key, payload)]
            if m.dead_letter_id in letters
        ] or [d for d in letters.values() if d.payload_size == len(payload)]
        assert found, f"{case}: no dead letter"
        assert found[0].reason is reason, f"{case}: {found[0].reason} ({found[0].detail})"
        assert found[0].detail
    assert report.ok, "\n".join(report.lines())
    assert report.raw_with_events == len(good)
    # The command line says the same, and exits 0 only because nothing is unexplained.
    cli = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "attrition.cli.main", "audit"],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr[-2000:]
    assert "no unexplained gaps" in cli.stdout
    assert f"{len(HOSTILE)} dead-lettered" in cli.stdout


async def test_no_secret_reaches_logs_dead_letters_or_web_views(
    embedded_broker: object, tmp_path: Path
) -> None:
    settings = isolated_settings(
        embedded_broker.url,  # type: ignore[attr-defined]
        tmp_path,
        security=KafkaSecurity(sasl_username="attrition", sasl_password=SecretStr(MARKER)),
        ingest=IngestSettings(token=SecretStr(MARKER)),
        log_level="debug",
    )
    log = tmp_path / "worker.log"
    worker = WorkerProcess(settings, log_path=log).start()
    base = f"http://127.0.0.1:{settings.web_port}"
    try:
        await publish_docs(settings, [b"not json at all", *report_series(date(2023, 1, 1), 2)])
        await wait_until_idle(settings, timeout_s=120, worker=worker)
        before = await asyncio.to_thread(_get, f"{base}/totals/")
        # A write without the token is refused, and a GET view takes no writes at all.
        assert await asyncio.to_thread(_status, f"{base}/documents", "POST", b"[]") in (401, 403)
        for method in ("POST", "PUT", "DELETE"):
            assert await asyncio.to_thread(_status, f"{base}/totals/", method, b"{}") >= 400
        assert await asyncio.to_thread(_get, f"{base}/totals/") == before
        pages = [before, await asyncio.to_thread(_get, f"{base}/metrics")]
        letters = await read_topic(settings, settings.topics.dead_letters)
    finally:
        assert worker.stop() == 0, log.read_text(errors="replace")[-3000:]
    assert letters, "the bad message should have produced a dead letter"
    assert MARKER not in log.read_text(errors="replace")
    assert all(MARKER.encode() not in value for _, value in letters)
    assert all(MARKER.encode() not in page for page in pages)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def _status(url: str, method: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


async def test_refused_loss_event_and_delta_messages_end_as_dead_letters(
    embedded_broker: object, tmp_path: Path
) -> None:
    """The loss-events and deltas topics are public contracts other producers may write to. A
    message there that does not decode, or that holds another key's events, feeds no state and
    no warehouse row, and is recorded on the dead-letter topic with why (it was only logged).
    So is a message on the alerts or dead-letters topics that does not decode."""
    settings = isolated_settings(embedded_broker.url, tmp_path)  # type: ignore[attr-defined]
    topics = settings.topics
    stray = parse_document(report_series(date(2022, 6, 1), 1, id_prefix="stray")[0])[0]
    tanks = [e for e in stray if e.category is Category.tanks]
    refused = [
        (topics.loss_events, TANKS, b"{not json"),
        (topics.loss_events, b"ua_general_staff/russia/aircraft", encode_loss_batch(tanks)),
        (topics.deltas, TANKS, b'{"events": []}'),
        (topics.alerts, TANKS, b"not an alert"),
        (topics.dead_letters, b"a-foreign-producer", b'{"reason": "made up"}'),
    ]
    good = report_series(date(2023, 1, 1), 2, id_prefix="after-refused")
    await ensure_topics(settings)  # as declared, not auto-created by the first send
    log = tmp_path / "worker.log"
    worker = WorkerProcess(settings, log_path=log).start()
    try:
        producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers)
        await producer.start()
        try:
            for topic, key, value in refused:
                await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()
        await publish_docs(settings, good)
        await wait_until_idle(settings, timeout_s=120, worker=worker)
        assert worker.alive()
        on_topic = [v for _, v in await read_topic(settings, topics.dead_letters)]
        # The dead-letters topic holds the refused message itself, then the letters.
        letters = [DeadLetter.model_validate_json(v) for v in on_topic if v != refused[-1][2]]
        async with open_warehouse(settings.warehouse) as warehouse:
            stored_letters = {r["dead_letter_id"] for r in await warehouse.dump("dead_letters")}
            stored_events = {r["event_id"] for r in await warehouse.dump("loss_events")}
    finally:
        assert worker.stop() == 0, log.read_text(errors="replace")[-3000:]
    assert sorted((d.source_topic, d.source_key) for d in letters) == sorted(
        (topic, key.decode()) for topic, key, _ in refused
    )
    assert all(d.reason is DeadLetterReason.invalid_event for d in letters)
    details = {d.source_topic + " " + (d.source_key or ""): d.detail for d in letters}
    assert details[f"{topics.loss_events} ua_general_staff/russia/tanks"].startswith(
        "not a loss-event batch: "
    )
    assert details[f"{topics.loss_events} ua_general_staff/russia/aircraft"] == (
        "loss-event batch on key 'ua_general_staff/russia/aircraft' holds events of "
        "ua_general_staff/russia/tanks"
    )
    assert details[f"{topics.deltas} ua_general_staff/russia/tanks"].startswith(
        "not a delta batch: "
    )
    assert details[f"{topics.alerts} ua_general_staff/russia/tanks"].startswith(
        "not a valid alert: "
    )
    assert details[f"{topics.dead_letters} a-foreign-producer"].startswith(
        "not a valid dead letter: "
    )
    assert stored_letters == {d.dead_letter_id for d in letters}
    assert not stored_events & {e.event_id for e in tanks}  # never written, never totalled
    assert len(stored_events) == 2 * 13
