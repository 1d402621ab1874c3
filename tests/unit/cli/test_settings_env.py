"""A child worker process must see exactly the parent's settings."""

from __future__ import annotations

import pytest

from attrition.cli.options import settings_env, warehouse_url
from attrition.settings import KafkaSecurity, Settings, TopicSettings


def test_settings_round_trip_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Settings(
        broker="kafka://127.0.0.1:9",
        embedded_broker=True,
        app_id="x",
        topics=TopicSettings(deltas="my.deltas", partitions=3),
        security=KafkaSecurity(protocol="SASL_SSL", sasl_username="u", sasl_password="s3cret"),
    )
    env = settings_env(original)
    for key in [k for k in list(env) if k.startswith("ATTRITION_")]:
        monkeypatch.setenv(key, env[key])
    assert Settings() == original


def test_secrets_do_not_print() -> None:
    settings = Settings(security=KafkaSecurity(sasl_password="s3cret"))
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings)


def test_warehouse_option_takes_a_path_or_a_url(tmp_path: object) -> None:
    assert warehouse_url("postgresql://h/db") == "postgresql://h/db"
    assert warehouse_url("w.duckdb").startswith("duckdb:////")
    assert warehouse_url(None) is None
