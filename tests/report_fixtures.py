"""Reports of our own, rendered in the General Staff's official English wording."""

from __future__ import annotations

from datetime import date, timedelta

from attrition.contracts.events import RawDocument
from attrition.contracts.vocabulary import Category

LABELS = {
    Category.personnel: "personnel ‒ about {total}{delta} persons",
    Category.tanks: "tanks ‒ {total}{delta}",
    Category.armoured_combat_vehicles: "APV ‒ {total}{delta}",
    Category.artillery_systems: "artillery systems ‒ {total}{delta}",
    Category.mlrs: "MLRS ‒ {total}{delta}",
    Category.anti_aircraft_systems: "Anti-aircraft warfare systems ‒ {total}{delta}",
    Category.aircraft: "aircraft ‒ {total}{delta}",
    Category.helicopters: "helicopters ‒ {total}{delta}",
    Category.uav: "UAV operational-tactical level ‒ {total}{delta}",
    Category.cruise_missiles: "cruise missiles ‒ {total}{delta}",
    Category.warships_boats: "warships / boats ‒ {total}{delta}",
    Category.vehicles_fuel_tanks: "vehicles and fuel tanks ‒ {total}{delta}",
    Category.special_equipment: "special equipment ‒ {total}{delta}",
}

START = {
    Category.personnel: 110_000,
    Category.tanks: 3000,
    Category.armoured_combat_vehicles: 6000,
    Category.artillery_systems: 2000,
    Category.mlrs: 420,
    Category.anti_aircraft_systems: 210,
    Category.aircraft: 280,
    Category.helicopters: 270,
    Category.uav: 1800,
    Category.cruise_missiles: 720,
    Category.warships_boats: 16,
    Category.vehicles_fuel_tanks: 4700,
    Category.special_equipment: 180,
}
DAILY = {
    Category.personnel: 650,
    Category.tanks: 7,
    Category.armoured_combat_vehicles: 9,
    Category.artillery_systems: 6,
    Category.mlrs: 1,
    Category.anti_aircraft_systems: 0,
    Category.aircraft: 0,
    Category.helicopters: 1,
    Category.uav: 8,
    Category.cruise_missiles: 0,
    Category.warships_boats: 0,
    Category.vehicles_fuel_tanks: 12,
    Category.special_equipment: 1,
}


def figures_for(day_index: int) -> dict[Category, int]:
    """Cumulative figures on the n-th day of the series (deterministic, varies by weekday)."""
    return {c: START[c] + day_index * DAILY[c] + (day_index % 3) * (DAILY[c] // 2) for c in START}


def render_report(
    as_of: date, figures: dict[Category, int], previous: dict[Category, int] | None
) -> str:
    lines = []
    for category, template in LABELS.items():
        delta = f" (+{figures[category] - previous[category]})" if previous else ""
        lines.append(template.format(total=figures[category], delta=delta))
    return (
        f"The total combat losses of the enemy from 24.02.22 to {as_of:%d.%m.%y} were "
        "approximately:\n\n" + ",\n".join(lines) + ".\n\nThe data are being updated."
    )


def report_series(first: date, days: int, id_prefix: str = "fx") -> list[RawDocument]:
    docs = []
    previous = None
    for i in range(days):
        as_of = first + timedelta(days=i)
        figures = figures_for(i)
        docs.append(
            RawDocument(
                id=f"{id_prefix}-{as_of.isoformat()}",
                kind="report",
                published=as_of,
                lang="en",
                text=render_report(as_of, figures, previous),
            )
        )
        previous = figures
    return docs
