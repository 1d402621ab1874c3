import json
from datetime import date
from pathlib import Path

import pytest

from attrition.contracts.events import loss_event_id
from attrition.contracts.vocabulary import (
    Category,
    Claimant,
    DocumentKind,
    Measure,
    Qualifier,
    Subject,
)
from attrition.history import History, day_record_text, history_loss_events, load_history

FIXTURE = Path(__file__).parents[2] / "fixtures" / "history" / "petroivaniuk"


@pytest.fixture(scope="module")
def history() -> History:
    return load_history(FIXTURE)


def test_fields_map_onto_categories(history: History) -> None:
    assert history.series[Category.tanks] == {
        date(2022, 2, 25): 80,
        date(2022, 2, 26): 146,
        date(2022, 2, 28): 150,
        date(2022, 3, 1): 198,
        date(2022, 3, 2): 211,
    }
    assert history.series[Category.vehicles][date(2022, 2, 28)] == 291
    assert history.series[Category.fuel_tanks][date(2022, 2, 25)] == 60
    assert history.series[Category.personnel][date(2022, 3, 1)] == 5710
    assert Category.armoured_combat_vehicles in history.series
    assert Category.uav in history.series
    assert Category.mobile_srbm_systems in history.series


def test_nulls_bools_and_thousands_separators(history: History) -> None:
    assert date(2022, 2, 26) not in history.series[Category.mobile_srbm_systems]
    assert date(2022, 3, 2) not in history.series[Category.personnel]
    assert date(2022, 3, 2) not in history.series[Category.uav]
    assert history.series[Category.armoured_combat_vehicles][date(2022, 2, 28)] == 816
    assert history.series[Category.vehicles_fuel_tanks][date(2022, 3, 2)] == 1234


def test_undated_record_is_skipped_and_missing_day_is_a_gap(history: History) -> None:
    assert history.days == [
        date(2022, 2, 25),
        date(2022, 2, 26),
        date(2022, 2, 28),
        date(2022, 3, 1),
        date(2022, 3, 2),
    ]
    assert history.changes(Category.tanks)[1] == (date(2022, 2, 28), 4, 2)


def test_skipped_and_unknown_fields(history: History) -> None:
    assert history.unknown_fields == frozenset({"laser weapons"})
    assert Category.other not in history.series


def test_corrections_keep_non_zero_revisions(history: History) -> None:
    assert history.corrections == {
        date(2022, 3, 1): {Category.tanks: -5, Category.armoured_combat_vehicles: 12}
    }


def test_missing_optional_files(tmp_path: Path) -> None:
    (tmp_path / "russia_losses_equipment.json").write_text(
        json.dumps([{"date": "2023-01-01", "tank": 3100}]), encoding="utf-8"
    )
    loaded = load_history(tmp_path)
    assert loaded.series == {Category.tanks: {date(2023, 1, 1): 3100}}
    assert loaded.corrections == {}


def test_not_a_dataset_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_history(tmp_path)


def test_loss_events_point_back_at_the_record(history: History) -> None:
    events = list(history_loss_events(history))
    assert len(events) == sum(len(series) for series in history.series.values())
    tank = next(e for e in events if e.category is Category.tanks and e.as_of == date(2022, 2, 25))
    assert tank.span.text == '"tank": 80'
    text = day_record_text(history, date(2022, 2, 25))
    assert json.loads(text)["tank"] == 80
    assert text[tank.span.start : tank.span.end] == tank.span.text
    assert tank.source_id == "petroivaniuk:2022-02-25"
    assert (tank.claimant, tank.subject) == (Claimant.ua_general_staff, Subject.russia)
    assert tank.source_kind is DocumentKind.report
    assert tank.official and tank.delta is None and tank.total == 80
    assert tank.label == "tank"
    assert tank.event_id == loss_event_id(
        tank.source_id, tank.claimant, tank.subject, tank.category, None, tank.span.start
    )


def test_personnel_events_carry_measure_and_qualifier(history: History) -> None:
    personnel = {
        e.as_of: e for e in history_loss_events(history) if e.category is Category.personnel
    }
    assert personnel[date(2022, 2, 25)].qualifier is Qualifier.about
    assert personnel[date(2022, 2, 28)].qualifier is Qualifier.more_than
    assert personnel[date(2022, 2, 25)].measure is Measure.casualties
    assert personnel[date(2022, 2, 25)].span.text == '"personnel": 2800'


def test_event_ids_are_stable_across_loads(history: History) -> None:
    again = load_history(FIXTURE)
    assert [e.event_id for e in history_loss_events(history)] == [
        e.event_id for e in history_loss_events(again)
    ]
    ids = [e.event_id for e in history_loss_events(history)]
    assert len(ids) == len(set(ids))
