"""Shared fixtures: the real embedded broker (one per test session) and isolated settings.

Each test gets its own topic names, consumer group and warehouse file, so tests sharing the
broker never see each other's messages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from attrition.settings import Settings
from isolated_settings import isolated_settings

pytest_plugins = ["postgres_fixtures"]


@pytest.fixture(scope="session")
def embedded_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from attrition.broker.embedded_broker import EmbeddedBroker

    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    broker = EmbeddedBroker(log_path=log).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def pipeline_settings(embedded_broker: object, tmp_path: Path) -> Settings:
    return isolated_settings(embedded_broker.url, tmp_path)  # type: ignore[attr-defined]
