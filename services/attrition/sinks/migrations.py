"""The warehouse schema as an ordered list of migrations, in SQL both engines accept.

A migration is never edited once released: a change is a new entry with the next version.
The sinks record each applied version in `schema_version`, so opening an up-to-date
database applies nothing. Lists (quality and delta flags) are stored as JSON text: the
engines' array types differ in how they come back to Python, JSON text does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SCHEMA_VERSION_DDL = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


# Frozen with migration 1: the view's columns. A category added to the vocabulary later needs
# a migration that recreates the view (tests hold this tuple against the Category enum).
DAILY_LOSSES_CATEGORIES_V1 = (
    "personnel",
    "tanks",
    "armoured_combat_vehicles",
    "artillery_systems",
    "mlrs",
    "anti_aircraft_systems",
    "aircraft",
    "helicopters",
    "uav",
    "cruise_missiles",
    "warships_boats",
    "submarines",
    "vehicles_fuel_tanks",
    "special_equipment",
    "ground_robotic_systems",
    "vehicles",
    "fuel_tanks",
    "mobile_srbm_systems",
)


def daily_losses_view(categories: Iterable[str]) -> str:
    """One row per day and (claimant, subject): each category's current report-sourced total."""
    columns = ",\n    ".join(
        f"MAX(total) FILTER (WHERE category = '{c}') AS {c}" for c in categories
    )
    return f"""
CREATE VIEW daily_losses AS
SELECT
    as_of,
    claimant,
    subject,
    {columns}
FROM deltas
WHERE superseded_by IS NULL AND source_kind = 'report'
GROUP BY as_of, claimant, subject
"""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "events, deltas with supersession, current totals, daily_losses view",
        (
            """
            CREATE TABLE loss_events (
                event_id TEXT PRIMARY KEY,
                source_id TEXT NOT NULL,
                source_kind TEXT NOT NULL,
                claimant TEXT NOT NULL,
                subject TEXT NOT NULL,
                category TEXT NOT NULL,
                label TEXT,
                as_of DATE NOT NULL,
                total BIGINT,
                delta BIGINT,
                period_days INTEGER,
                qualifier TEXT NOT NULL,
                low BIGINT,
                high BIGINT,
                measure TEXT,
                span_start INTEGER NOT NULL,
                span_end INTEGER NOT NULL,
                span_text TEXT NOT NULL,
                official BOOLEAN NOT NULL,
                confidence DOUBLE PRECISION NOT NULL,
                quality TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE deltas (
                delta_id TEXT PRIMARY KEY,
                claimant TEXT NOT NULL,
                subject TEXT NOT NULL,
                category TEXT NOT NULL,
                source_kind TEXT NOT NULL,
                as_of DATE NOT NULL,
                total BIGINT NOT NULL,
                previous_as_of DATE,
                previous_total BIGINT,
                change BIGINT,
                reported_delta BIGINT,
                days INTEGER,
                flags TEXT NOT NULL,
                replaces TEXT,
                source_id TEXT NOT NULL,
                event_id TEXT NOT NULL,
                superseded_by TEXT
            )
            """,
            "CREATE INDEX deltas_replaces ON deltas (replaces)",
            "CREATE INDEX deltas_key_day "
            "ON deltas (claimant, subject, category, source_kind, as_of)",
            """
            CREATE TABLE alerts (
                alert_id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                claimant TEXT NOT NULL,
                subject TEXT NOT NULL,
                category TEXT NOT NULL,
                as_of DATE NOT NULL,
                value DOUBLE PRECISION NOT NULL,
                baseline DOUBLE PRECISION,
                score DOUBLE PRECISION,
                threshold DOUBLE PRECISION,
                severity TEXT NOT NULL,
                explanation TEXT NOT NULL,
                delta_id TEXT
            )
            """,
            """
            CREATE TABLE dead_letters (
                dead_letter_id TEXT PRIMARY KEY,
                reason TEXT NOT NULL,
                detail TEXT NOT NULL,
                source_topic TEXT NOT NULL,
                source_key TEXT,
                source_id TEXT,
                payload_excerpt TEXT NOT NULL,
                payload_size BIGINT NOT NULL,
                failed_at TIMESTAMPTZ NOT NULL
            )
            """,
            """
            CREATE TABLE current_totals (
                claimant TEXT NOT NULL,
                subject TEXT NOT NULL,
                category TEXT NOT NULL,
                source_kind TEXT NOT NULL,
                total BIGINT NOT NULL,
                as_of DATE NOT NULL,
                delta_id TEXT NOT NULL,
                PRIMARY KEY (claimant, subject, category, source_kind)
            )
            """,
            daily_losses_view(DAILY_LOSSES_CATEGORIES_V1),
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def pending(applied: Iterable[int]) -> list[Migration]:
    """Migrations not yet applied, oldest first."""
    done = set(applied)
    return [m for m in MIGRATIONS if m.version not in done]
