"""Spike-detector settings, nested in the one Settings object as `alerts`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from attrition.contracts.vocabulary import Category, DeltaFlag, Severity

# Smallest daily change that can be a spike, whatever the baseline says. Rare categories sit at a
# median of 0, where any loss at all is "infinitely" unusual; these are the counts a reader would
# call a notable day for that category (a week's worth in the quiet years of the war).
DEFAULT_FLOORS: dict[Category, float] = {
    Category.personnel: 300,
    Category.tanks: 15,
    Category.armoured_combat_vehicles: 25,
    Category.artillery_systems: 25,
    Category.mlrs: 6,
    Category.anti_aircraft_systems: 5,
    Category.aircraft: 4,
    Category.helicopters: 4,
    Category.uav: 25,
    Category.cruise_missiles: 15,
    Category.warships_boats: 3,
    Category.submarines: 2,
    Category.vehicles_fuel_tanks: 30,
    Category.special_equipment: 6,
    Category.ground_robotic_systems: 10,
    Category.vehicles: 30,
    Category.fuel_tanks: 10,
    Category.mobile_srbm_systems: 3,
    Category.other: 10,
}


class AlertSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    window_days: int = Field(default=28, ge=3, description="Trailing window of the baseline.")
    min_history_days: int = Field(
        default=14, ge=1, description="Clean days in the window before the detector speaks."
    )
    score_threshold: float = Field(
        default=2.0,
        gt=0,
        description="Robust score (change − median) / scale that a spike must reach.",
    )
    score_thresholds: dict[Category, float] = Field(
        default_factory=dict, description="Per-category overrides of score_threshold."
    )
    min_ratio: float = Field(
        default=2.5, ge=1.0, description="A spike must also be at least this many times the median."
    )
    floors: dict[Category, float] = Field(
        default_factory=lambda: dict(DEFAULT_FLOORS),
        description="Per category, the smallest daily change that can be a spike.",
    )
    default_floor: float = Field(default=10, ge=0, description="Floor of a category not in floors.")
    critical_ratio: float = Field(
        default=4.0, ge=1.0, description="A spike this many times the median is critical."
    )
    data_quality_flags: frozenset[DeltaFlag] = Field(
        default=frozenset(
            {DeltaFlag.decrease, DeltaFlag.correction, DeltaFlag.reported_delta_mismatch}
        ),
        description="Delta flags that make a delta a data-quality alert, kept out of the baseline.",
    )
    horizon_days: int = Field(
        default=90,
        ge=1,
        description="How far behind the newest day a late delta is still judged; older ones are "
        "ignored, so a replay of the distant past neither repeats nor invents alerts.",
    )
    max_remembered_ids: int = Field(
        default=512, ge=16, description="Per key, recent delta and alert ids kept to drop repeats."
    )

    webhook_url: str | None = Field(
        default=None,
        description="POST each alert (JSON AlertEvent) here; unset: no webhook. The alert_id is "
        "sent as Idempotency-Key so a receiver can drop redeliveries.",
    )
    webhook_token: SecretStr | None = Field(
        default=None, description="Sent as `Authorization: Bearer …` to the webhook."
    )
    webhook_timeout_s: float = Field(default=5.0, gt=0, description="Per attempt.")
    webhook_retries: int = Field(
        default=3, ge=0, description="Retries after a failed attempt, with exponential backoff."
    )
    webhook_min_severity: Severity = Field(
        default=Severity.warning, description="Alerts below this severity are not posted."
    )
    log_alerts: bool = Field(default=True, description="Log every alert's explanation.")

    @model_validator(mode="after")
    def _horizon_covers_window(self) -> AlertSettings:
        if self.horizon_days < self.window_days:
            raise ValueError("horizon_days must be at least window_days")
        return self

    def threshold_for(self, category: Category) -> float:
        return self.score_thresholds.get(category, self.score_threshold)

    def floor_for(self, category: Category) -> float:
        return self.floors.get(category, self.default_floor)
