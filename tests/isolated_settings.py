"""Settings whose topics, consumer group and warehouse belong to one test only, so tests
sharing the session's broker never see each other's messages. A plain module (not conftest),
so test files import it by a name no other folder shadows."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from attrition.settings import Settings, TopicSettings

_counter = itertools.count()


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
        "topics": TopicSettings.prefixed(prefix, 2),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
