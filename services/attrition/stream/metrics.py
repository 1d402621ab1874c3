"""Prometheus metrics of one worker, and the /health, /ready and /metrics views.

One registry per app (not the global one), so tests that build several apps do not collide.
The metric names are the contract of deploy/grafana/attrition-dashboard.json."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from attrition.stream.state_table import StateTable

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_in = Counter(
            "attrition_events_in", "Events consumed, per topic.", ["topic"], registry=self.registry
        )
        self.events_out = Counter(
            "attrition_events_out",
            "Events produced, per topic.",
            ["topic"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "attrition_dead_letters",
            "Raw messages dead-lettered, per reason.",
            ["reason"],
            registry=self.registry,
        )
        self.parse_seconds = Histogram(
            "attrition_parse_seconds",
            "Time to decode and parse one raw document.",
            buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0),
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "attrition_consumer_lag",
            "High watermark minus committed offset, per partition.",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.table_recovery_seconds = Gauge(
            "attrition_table_recovery_seconds",
            "Seconds from worker start until its tables were recovered and it began consuming.",
            registry=self.registry,
        )
        self.event_loop = Gauge(
            "attrition_event_loop",
            "1 for the event loop the worker runs on (`module`: uvloop or asyncio).",
            ["module"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "attrition_alerts",
            "Alerts raised, per kind and severity.",
            ["kind", "severity"],
            registry=self.registry,
        )
        self.warehouse_write_failures = Counter(
            "attrition_warehouse_write_failures",
            "Warehouse writes that failed (each is retried until warehouse_retry_seconds).",
            registry=self.registry,
        )
        self.state_largest_record_bytes = Gauge(
            "attrition_state_largest_record_bytes",
            "Largest record this worker wrote to a state table's changelog since it started, "
            "per table (a totals ledger grows with its key's history).",
            ["table"],
            registry=self.registry,
        )
        self.state_record_limit_bytes = Gauge(
            "attrition_state_record_limit_bytes",
            "Most bytes one state record may have (ATTRITION_MAX_RECORD_BYTES); a larger state "
            "stops the worker.",
            registry=self.registry,
        )
        self.sent_messages_reused = Counter(
            "attrition_sent_messages_reused",
            "Loss-event and delta messages this worker sent and read back, handed to their first "
            "reader without a second validation, per topic.",
            ["topic"],
            registry=self.registry,
        )
        self.started_at = time.monotonic()
        self.ready = False


def _refresh_lag(app: Any, metrics: WorkerMetrics) -> None:
    consumer = app.consumer
    committed = getattr(consumer, "_committed_offset", {})
    metrics.consumer_lag.clear()
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        done = committed.get(tp) or 0
        metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(max(highwater - done, 0))


def _refresh_state_sizes(app: Any, metrics: WorkerMetrics) -> None:
    for table in app.tables.values():
        if isinstance(table, StateTable):
            metrics.state_largest_record_bytes.labels(table.name).set(table.largest_record_bytes)


def register(app: AttritionApp) -> WorkerMetrics:
    metrics = WorkerMetrics()
    app.metrics = metrics  # type: ignore[attr-defined]
    metrics.state_record_limit_bytes.set(app.settings.max_record_bytes)
    app.decoder.on_reused = lambda topic: metrics.sent_messages_reused.labels(topic).inc()

    async def recovery_finished() -> None:
        # Faust starts app tasks (and the web server) only once table recovery is complete;
        # its Worker owns on_startup_finished, so the moment is taken here.
        metrics.table_recovery_seconds.set(time.monotonic() - metrics.started_at)
        # The loop the agents run on, not the setting: `use_event_loop` must have run first.
        loop_module = type(asyncio.get_running_loop()).__module__.split(".")[0]
        metrics.event_loop.labels(loop_module).set(1)
        metrics.ready = True

    app.task(recovery_finished)

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        return web.json({"status": "alive"})

    @app.page("/ready")
    async def ready(web: Any, request: Any) -> Any:
        assigned = bool(app.consumer.assignment()) if metrics.ready else False
        recovery = app.tables.recovery  # type: ignore[attr-defined]
        recovered = metrics.ready and not app.rebalancing and recovery.completed.is_set()
        body = {
            "ready": bool(assigned and recovered),
            "tables_recovered": bool(recovered),
            "partitions_assigned": assigned,
        }
        return web.json(body, status=200 if body["ready"] else 503)

    @app.page("/metrics")
    async def metrics_view(web: Any, request: Any) -> Any:
        _refresh_lag(app, metrics)
        _refresh_state_sizes(app, metrics)
        # aiohttp wants the charset apart from the media type.
        media_type = CONTENT_TYPE_LATEST.split(";")[0]
        return web.bytes(generate_latest(metrics.registry), content_type=media_type)

    return metrics
