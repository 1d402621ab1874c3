"""The PetroIvaniuk dataset (github.com/PetroIvaniuk/2022-Ukraine-Russia-War-Dataset): the General
Staff's cumulative figures for every day of the war, and the official revisions.

Three files in one directory: `russia_losses_equipment.json` and `russia_losses_personnel.json`
(lists of day records, `{"date": "2022-02-25", "day": 2, "tank": 80, ...}`) and
`russia_losses_equipment_correction.json` (same shape; each value is the revision the General
Staff applied on that date, already included in that day's cumulative figure).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from attrition.contracts.events import LossEvent, TextSpan, loss_event_id
from attrition.contracts.vocabulary import (
    Category,
    Claimant,
    DocumentKind,
    Measure,
    Qualifier,
    Subject,
)

EQUIPMENT_FILE = "russia_losses_equipment.json"
PERSONNEL_FILE = "russia_losses_personnel.json"
CORRECTIONS_FILE = "russia_losses_equipment_correction.json"

SOURCE_PREFIX = "petroivaniuk"

FIELD_CATEGORIES: Mapping[str, Category] = {
    "personnel": Category.personnel,
    "tank": Category.tanks,
    "APC": Category.armoured_combat_vehicles,
    "field artillery": Category.artillery_systems,
    "MRL": Category.mlrs,
    "anti-aircraft warfare": Category.anti_aircraft_systems,
    "aircraft": Category.aircraft,
    "helicopter": Category.helicopters,
    "drone": Category.uav,
    "cruise missiles": Category.cruise_missiles,
    "naval ship": Category.warships_boats,
    "submarines": Category.submarines,
    "vehicles and fuel tanks": Category.vehicles_fuel_tanks,
    "special equipment": Category.special_equipment,
    "ground robotic systems": Category.ground_robotic_systems,
    # Tracked separately until 2022-05-01, then merged by the General Staff.
    "military auto": Category.vehicles,
    "fuel tank": Category.fuel_tanks,
    "mobile SRBM system": Category.mobile_srbm_systems,
}

SKIPPED_FIELDS: Mapping[str, str] = {
    "date": "the record's key, not a figure",
    "day": "the day of the war, derivable from the date",
    "personnel*": "the qualifier of the personnel figure ('about'); read into Qualifier",
    "POW": "prisoners came from the Invaders project, not the General Staff, and stopped "
    "in April 2022; it is not a ua_general_staff claim",
    "greatest losses direction": "a place name, not a count",
}

_QUALIFIERS: Mapping[str, Qualifier] = {q.value: q for q in Qualifier}


@dataclass(frozen=True)
class History:
    """Cumulative series per category, the official revisions, and the raw day records."""

    series: Mapping[Category, Mapping[date, int]]
    """Per category, cumulative figure per date, in date order. Days without a figure are absent."""
    corrections: Mapping[date, Mapping[Category, int]]
    """Per revision date, the non-zero revision per category (already inside that day's total)."""
    records: Mapping[date, Mapping[str, Any]]
    """The day's equipment and personnel records merged, as published (for spans and backfill)."""
    unknown_fields: frozenset[str] = field(default_factory=frozenset)
    """Field names seen that are neither mapped nor knowingly skipped: a new category upstream."""

    @property
    def days(self) -> list[date]:
        return sorted(self.records)

    def changes(self, category: Category) -> list[tuple[date, int, int]]:
        """Per consecutive pair of known days: (day, change, days spanned)."""
        points = list(self.series.get(category, {}).items())
        return [
            (day, total - prev_total, (day - prev_day).days)
            for (prev_day, prev_total), (day, total) in itertools.pairwise(points)
        ]


def load_history(directory: Path) -> History:
    """Read the dataset from `directory`. The equipment file is required; personnel and
    corrections are optional (absent means no figures / no revisions)."""
    equipment_path = directory / EQUIPMENT_FILE
    if not equipment_path.exists():
        raise FileNotFoundError(f"{equipment_path} not found: not a PetroIvaniuk dataset directory")
    records: dict[date, dict[str, Any]] = {}
    for path in (equipment_path, directory / PERSONNEL_FILE):
        for day, record in _read_day_records(path):
            records.setdefault(day, {}).update(record)

    series: dict[Category, dict[date, int]] = {}
    unknown: set[str] = set()
    for day in sorted(records):
        for name, raw in records[day].items():
            category = FIELD_CATEGORIES.get(name)
            if category is None:
                if name not in SKIPPED_FIELDS:
                    unknown.add(name)
                continue
            value = _as_count(raw)
            if value is not None:
                series.setdefault(category, {})[day] = value

    corrections: dict[date, dict[Category, int]] = {}
    for day, record in _read_day_records(directory / CORRECTIONS_FILE):
        for name, raw in record.items():
            category = FIELD_CATEGORIES.get(name)
            amount = _as_signed(raw)
            if category is not None and amount:
                corrections.setdefault(day, {})[category] = amount

    return History(
        series={c: dict(s) for c, s in sorted(series.items(), key=lambda kv: kv[0].value)},
        corrections=dict(sorted(corrections.items())),
        records={day: records[day] for day in sorted(records)},
        unknown_fields=frozenset(unknown),
    )


def source_id_for(day: date) -> str:
    return f"{SOURCE_PREFIX}:{day.isoformat()}"


def day_record_text(history: History, day: date) -> str:
    """The day's merged record rendered as JSON: the text every span of that day points into."""
    return _render(history.records[day])[0]


def history_loss_events(history: History) -> Iterator[LossEvent]:
    """One official General Staff LossEvent per category and day, in date order: the backfill."""
    for day, record in history.records.items():
        text, offsets = _render(record)
        source_id = source_id_for(day)
        for name, value in record.items():
            category = FIELD_CATEGORIES.get(name)
            total = _as_count(value)
            if category is None or total is None:
                continue
            start, end = offsets[name]
            is_personnel = category is Category.personnel
            measure = Measure.casualties if is_personnel else None
            written = str(record.get("personnel*", "")).strip().replace(" ", "_")
            qualifier = _QUALIFIERS.get(written, Qualifier.exact)
            yield LossEvent(
                event_id=loss_event_id(
                    source_id,
                    Claimant.ua_general_staff,
                    Subject.russia,
                    category,
                    measure,
                    start,
                ),
                source_id=source_id,
                source_kind=DocumentKind.report,
                claimant=Claimant.ua_general_staff,
                subject=Subject.russia,
                category=category,
                label=name,
                as_of=day,
                total=total,
                delta=None,
                qualifier=qualifier if is_personnel else Qualifier.exact,
                measure=measure,
                span=TextSpan(start=start, end=end, text=text[start:end]),
                official=True,
            )


def _read_day_records(path: Path) -> Iterator[tuple[date, dict[str, Any]]]:
    if not path.exists():
        return
    payload = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(payload, list):
        raise ValueError(f"{path}: expected a list of day records, got {type(payload).__name__}")
    for record in payload:
        # A record without a readable date cannot be placed in any series: skipped, not fatal.
        if not isinstance(record, dict):
            continue
        try:
            day = date.fromisoformat(str(record.get("date")))
        except ValueError:
            continue
        yield day, record


def _as_signed(raw: object) -> int | None:
    # bool is an int subclass; a true/false in a count field is a data error, not 1/0.
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        cleaned = raw.replace(",", "").replace(" ", "").strip()
        if cleaned.lstrip("+-").isdigit():
            return int(cleaned)
    return None


def _as_count(raw: object) -> int | None:
    value = _as_signed(raw)
    return value if value is not None and value >= 0 else None


def _render(record: Mapping[str, Any]) -> tuple[str, dict[str, tuple[int, int]]]:
    """json.dumps(record, ensure_ascii=False), and where each `"field": value` pair sits in it."""
    parts: list[str] = []
    offsets: dict[str, tuple[int, int]] = {}
    position = 1
    for name, value in record.items():
        pair = f"{json.dumps(name, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False)}"
        offsets[name] = (position, position + len(pair))
        parts.append(pair)
        position += len(pair) + 2
    return "{" + ", ".join(parts) + "}", offsets
