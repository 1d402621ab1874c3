"""Shared bits of the command line: settings overrides and output helpers."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, SecretStr

from attrition.settings import Settings


def warehouse_url(value: str | None) -> str | None:
    """`--warehouse` takes a URL or a plain DuckDB file path."""
    if value is None:
        return None
    if "://" in value:
        return value
    return "duckdb:///" + str(Path(value).expanduser().resolve())


def settings_with(**overrides: object) -> Settings:
    """Settings from the environment with command-line overrides applied (None = keep)."""
    base = Settings()
    changes = {k: v for k, v in overrides.items() if v is not None}
    return base.model_copy(update=changes) if changes else base


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment for a child process that must see exactly these settings.

    Only values that differ from the defaults are written, in the form pydantic-settings reads
    back: nested models flattened with `__`, complex values as JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTRITION_")}

    def flatten(prefix: str, model: BaseModel) -> None:
        dumped = model.model_dump(mode="json")
        for name, info in type(model).model_fields.items():
            value = getattr(model, name)
            key = f"{prefix}{name.upper()}"
            if isinstance(value, BaseModel):
                flatten(key + "__", value)
                continue
            if value == info.get_default(call_default_factory=True):
                continue
            if isinstance(value, SecretStr):
                env[key] = value.get_secret_value()
            elif isinstance(dumped[name], dict | list):
                env[key] = json.dumps(dumped[name])
            elif isinstance(value, bool):
                env[key] = "true" if value else "false"
            elif value is not None:
                env[key] = str(dumped[name])

    flatten("ATTRITION_", settings)
    return env
