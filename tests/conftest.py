"""Shared fixtures: the real embedded broker (one per test session) and isolated settings.

Each test gets its own topic names, consumer group and warehouse file, so tests sharing the
broker never see each other's messages."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from attrition.settings import Settings, TopicSettings

pytest_plugins = ["postgres_fixtures"]

_counter = itertools.count()


@pytest.fixture(scope="session")
def embedded_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from attrition.broker.embedded_broker import EmbeddedBroker

    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    broker = EmbeddedBroker(log_path=log).start()
    try:
        yield broker
    finally:
        broker.stop()


def isolated_settings(broker_url: str, tmp_path: Path, **overrides: object) -> Settings:
    """Settings whose topics, group and warehouse belong to one test only."""
    from attrition.broker.embedded_broker import free_port

    prefix = f"t{os.getpid()}x{next(_counter)}"
    values: dict[str, object] = {
        "broker": broker_url,
        "embedded_broker": True,
        "app_id": f"attrition-{prefix}",
        "data_dir": str(tmp_path / "data"),
        "warehouse": "duckdb:///" + str(tmp_path / "warehouse.duckdb"),
        "web_port": free_port(),
        "sink_batch_seconds": 0.2,
        "topics": TopicSettings(
            raw_reports=f"{prefix}.raw.reports",
            raw_articles=f"{prefix}.raw.articles",
            loss_events=f"{prefix}.loss-events",
            deltas=f"{prefix}.deltas",
            current_totals=f"{prefix}.current-totals",
            alerts=f"{prefix}.alerts",
            dead_letters=f"{prefix}.dead-letters",
            partitions=2,
        ),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def pipeline_settings(embedded_broker: object, tmp_path: Path) -> Settings:
    return isolated_settings(embedded_broker.url, tmp_path)  # type: ignore[attr-defined]
