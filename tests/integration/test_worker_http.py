"""The worker's HTTP side against the real broker: health, readiness, Prometheus metrics that
move when events flow, and the totals view answered from the ledger table."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from pathlib import Path

import httpx
import pytest

from attrition.broker.topic_reader import read_records
from attrition.settings import Settings
from attrition.stream.worker_process import WorkerProcess, wait_until_idle
from pipeline_helpers import publish_docs, read_deltas
from report_fixtures import figures_for, report_series

pytestmark = pytest.mark.integration


def _sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}(?:\{{{re.escape(wanted)}\}})? ([0-9.e+-]+)$"
    for line in metrics.splitlines():
        found = re.match(pattern, line)
        if found:
            return float(found.group(1))
    return 0.0


async def _get(client: httpx.AsyncClient, path: str, until_ok: float = 60.0) -> httpx.Response:
    deadline = asyncio.get_running_loop().time() + until_ok
    while True:
        try:
            response = await client.get(path)
            if response.status_code == 200 or asyncio.get_running_loop().time() > deadline:
                return response
        except httpx.TransportError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.3)


async def test_health_ready_metrics_and_totals(pipeline_settings: Settings, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    worker = WorkerProcess(pipeline_settings, log_path=log).start()
    base = f"http://127.0.0.1:{pipeline_settings.web_port}"
    topics = pipeline_settings.topics
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            assert (await _get(client, "/health")).json() == {"status": "alive"}
            ready = await _get(client, "/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["tables_recovered"] is True

            before = (await client.get("/metrics")).text
            assert _sample(before, "attrition_events_in_total", topic=topics.raw_reports) == 0

            await publish_docs(pipeline_settings, [*report_series(date(2023, 5, 1), 3), b"{x"])
            await wait_until_idle(pipeline_settings, timeout_s=120, worker=worker)

            after = (await client.get("/metrics")).text
            assert _sample(after, "attrition_events_in_total", topic=topics.raw_reports) == 4
            assert _sample(after, "attrition_events_out_total", topic=topics.loss_events) == 39
            # Reports on different partitions may reach the totals stage out of date order;
            # corrections then add deltas. The counter must match the topic either way.
            on_topic = len(await read_deltas(pipeline_settings))
            assert on_topic >= 39
            assert _sample(after, "attrition_events_out_total", topic=topics.deltas) == on_topic
            assert _sample(after, "attrition_dead_letters_total", reason="not_json") == 1
            assert _sample(after, "attrition_parse_seconds_count") == 4
            assert _sample(after, "attrition_table_recovery_seconds") > 0
            assert "attrition_consumer_lag" in after
            # Three days of 13 ledgers and detector states: a few hundred bytes each, far from
            # the limit a state record may reach.
            for table in ("totals-ledger", "spike-detector"):
                largest = _sample(after, "attrition_state_largest_record_bytes", table=table)
                assert 200 < largest < 10_000, (table, largest)
            assert _sample(after, "attrition_state_record_limit_bytes") == 1_000_000
            # The default loop (ATTRITION_EVENT_LOOP) is the one the worker's tasks run on.
            assert _sample(after, "attrition_event_loop", module="uvloop") == 1
            # One worker reads every partition: each loss-events and deltas message it sent
            # came back to it and was handed over without a second validation.
            for topic in (topics.loss_events, topics.deltas):
                messages = len(await read_records(pipeline_settings, topic))
                assert messages > 0
                reused = _sample(after, "attrition_sent_messages_reused_total", topic=topic)
                assert reused == messages, (topic, reused, messages)

            totals = (await client.get("/totals/ua_general_staff/russia/")).json()["totals"]
            tanks = [t for t in totals if t["category"] == "tanks"]
            assert tanks == [
                {
                    "claimant": "ua_general_staff",
                    "subject": "russia",
                    "category": "tanks",
                    "source_kind": "report",
                    "total": figures_for(2)["tanks"],
                    "as_of": "2023-05-03",
                    "delta_id": tanks[0]["delta_id"],
                }
            ]
            everything = (await client.get("/totals/")).json()["totals"]
            assert len(everything) == 13
    finally:
        assert worker.stop() == 0, log.read_text()[-3000:]
    lines = log.read_text().splitlines()
    # Not a terminal: one JSON object a line.
    assert lines and all(line.startswith("{") for line in lines if line.strip()), lines[:3]
