"""Spike-detector settings, nested in the one Settings object as `alerts`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AlertSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    window_days: int = Field(default=28, ge=3, description="Trailing window of the baseline.")
    min_history_days: int = Field(default=14, ge=1, description="Days of history before it speaks.")
