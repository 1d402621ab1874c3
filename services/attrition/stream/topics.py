"""Every topic the worker reads or writes, declared once with its partitions.

Values are raw bytes (orjson JSON of the contracts) and keys are raw bytes: the agents decode
with pydantic themselves, so a malformed message becomes a dead letter instead of a crash
inside Faust's deserializer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from attrition.settings import Settings


def _topic(app: faust.App, name: str, partitions: int, **extra: Any) -> Any:
    return app.topic(
        name,
        partitions=partitions,
        key_serializer="raw",
        value_serializer="raw",
        internal=True,  # the worker declares it with our partition count if it is missing
        **extra,
    )


@dataclass(frozen=True)
class Topics:
    raw: Any  # both raw topics, as one channel
    loss_events: Any
    deltas: Any
    current_totals: Any
    alerts: Any
    dead_letters: Any

    @classmethod
    def declare(cls, app: faust.App, settings: Settings) -> Topics:
        t = settings.topics
        n = t.partitions
        return cls(
            raw=app.topic(
                t.raw_reports,
                t.raw_articles,
                partitions=n,
                key_serializer="raw",
                value_serializer="raw",
                internal=True,
            ),
            loss_events=_topic(app, t.loss_events, n),
            deltas=_topic(app, t.deltas, n),
            current_totals=_topic(app, t.current_totals, n, compacting=True),
            alerts=_topic(app, t.alerts, n),
            dead_letters=_topic(app, t.dead_letters, n),
        )
