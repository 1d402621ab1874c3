"""Workers that run some of the stages: their own consumer group, only their stages' topics."""

from __future__ import annotations

import pytest

from attrition.broker.consumer_progress import consumed_topics
from attrition.cli.options import settings_env
from attrition.settings import ALL_STAGES, Settings


def test_a_worker_with_every_stage_keeps_the_app_id_as_its_group() -> None:
    settings = Settings(app_id="attrition")
    assert settings.stages == ALL_STAGES
    assert settings.group_id == "attrition"
    t = settings.topics
    assert consumed_topics(settings) == [
        t.raw_reports,
        t.raw_articles,
        t.loss_events,
        t.deltas,
        t.alerts,
        t.dead_letters,
    ]


def test_a_stage_subset_gets_a_group_of_its_own_and_reads_only_its_topics() -> None:
    sinks = Settings(app_id="attrition", stages=frozenset({"sinks"}))
    core = Settings(app_id="attrition", stages=frozenset({"parse", "totals", "alerts"}))
    assert sinks.group_id == "attrition.sinks"
    assert core.group_id == "attrition.alerts+parse+totals"
    t = core.topics
    assert consumed_topics(sinks) == [t.loss_events, t.deltas, t.alerts, t.dead_letters]
    assert consumed_topics(core) == [t.raw_reports, t.raw_articles, t.loss_events, t.deltas]


def test_stages_reach_a_child_process_through_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chosen = Settings(stages=frozenset({"totals"}))
    env = settings_env(chosen)
    assert "ATTRITION_STAGES" in env
    monkeypatch.setenv("ATTRITION_STAGES", env["ATTRITION_STAGES"])
    assert Settings().stages == frozenset({"totals"})


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError):
        Settings(stages=frozenset({"sinks", "teleport"}))  # type: ignore[arg-type]
