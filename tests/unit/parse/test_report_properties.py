"""Reports rendered from random figures in every known wording parse back exactly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from attrition.contracts.events import LossEvent, RawDocument, loss_event_id
from attrition.contracts.vocabulary import Category, Qualifier
from attrition.parse.report_parser import parse_report

TODAY = date(2030, 1, 1)
DASHES = ["‒", "–", "—", "-"]
SEPARATORS = [",", " ", "\u00a0", "\u202f"]

# One label per category for each wording, as the reports write them.
OFFICIAL_EN = {
    Category.personnel: "personnel",
    Category.tanks: "tanks",
    Category.armoured_combat_vehicles: "APV",
    Category.artillery_systems: "artillery systems",
    Category.mlrs: "MLRS",
    Category.anti_aircraft_systems: "Anti-aircraft warfare systems",
    Category.aircraft: "aircraft",
    Category.helicopters: "helicopters",
    Category.uav: "UAV operational-tactical level",
    Category.cruise_missiles: "cruise missiles",
    Category.warships_boats: "warships / boats",
    Category.submarines: "submarines",
    Category.vehicles_fuel_tanks: "vehicles and fuel tanks",
    Category.special_equipment: "special equipment",
    Category.ground_robotic_systems: "ground robotic systems",
}
OFFICIAL_UK = {
    Category.personnel: "особового складу",
    Category.tanks: "танків",
    Category.armoured_combat_vehicles: "бойових броньованих машин",
    Category.artillery_systems: "артилерійських систем",
    Category.mlrs: "РСЗВ",
    Category.anti_aircraft_systems: "засоби ППО",
    Category.aircraft: "літаків",
    Category.helicopters: "гелікоптерів",
    Category.uav: "БПЛА оперативно-тактичного рівня",
    Category.cruise_missiles: "крилаті ракети",
    Category.warships_boats: "кораблі /катери",
    Category.submarines: "підводні човни",
    Category.vehicles_fuel_tanks: "автомобільної техніки та автоцистерн",
    Category.special_equipment: "спеціальна техніка",
}
AGGREGATOR = {
    Category.tanks: "Танки",
    Category.armoured_combat_vehicles: "ББМ",
    Category.artillery_systems: "Гармати",
    Category.mlrs: "РСЗВ",
    Category.anti_aircraft_systems: "Засоби ППО",
    Category.aircraft: "Літаки",
    Category.helicopters: "Гелікоптери",
    Category.uav: "БПЛА",
    Category.cruise_missiles: "Крилаті ракети",
    Category.warships_boats: "Кораблі (катери)",
    Category.vehicles_fuel_tanks: "Автомобілі та автоцистерни",
    Category.special_equipment: "Спеціальна техніка",
    Category.personnel: "Особовий склад",
}
BILINGUAL = {
    c: f"{OFFICIAL_UK[c]} / {label}" for c, label in OFFICIAL_EN.items() if c in OFFICIAL_UK
}
QUALIFIER_WORDS = {
    "official_en": {Qualifier.about: "about", Qualifier.more_than: "more than"},
    "official_uk": {Qualifier.about: "близько", Qualifier.more_than: "понад"},
    "aggregator_uk": {Qualifier.about: "близько", Qualifier.more_than: "більше"},
}


@dataclass(frozen=True)
class Figure:
    category: Category
    total: int | None
    delta: int | None
    qualifier: Qualifier


def written(value: int, separator: str | None) -> str:
    if separator is None or value < 1000:
        return str(value)
    return f"{value:,}".replace(",", separator)


def render(
    style: str, labels: dict[Category, str], figures: list[Figure], day: date, data: st.DataObject
) -> str:
    start, end = data.draw(
        st.sampled_from(
            [
                ("24.02", f"{day:%d.%m}"),
                ("24.02.22", f"{day:%d.%m.%y}"),
                ("24.02.2022", f"{day:%d.%m.%Y}"),
            ]
        )
    )
    if style == "aggregator_uk":
        lines = [day.strftime("%d.%m.%Y")]
    elif style == "official_uk":
        lines = [f"Загальні бойові втрати противника з {start} по {end} склали:", ""]
    else:
        lines = [f"The total combat losses of the enemy from {start} to {end} were:", ""]
    for figure in figures:
        dash = data.draw(st.sampled_from(DASHES))
        separator = data.draw(st.sampled_from([None, *SEPARATORS]))
        qualifier = QUALIFIER_WORDS[style].get(figure.qualifier, "")
        total = "" if figure.total is None else written(figure.total, separator)
        delta = ""
        if figure.delta is not None:
            sign = "+" if figure.delta >= 0 else data.draw(st.sampled_from(DASHES))
            delta = f"({sign}{written(abs(figure.delta), separator)})"
        if style == "aggregator_uk":
            unit = " осіб" if figure.category is Category.personnel and total else ""
            body = " ".join(part for part in (qualifier, f"{total}{unit}", delta) if part)
            lines.append(f"{labels[figure.category]} — {body}")
        else:
            unit = data.draw(st.sampled_from(["", " од", " осіб", " persons were liquidated"]))
            body = " ".join(part for part in (qualifier, total, delta) if part)
            lines.append(f"{labels[figure.category]} {dash} {body}{unit},")
            lines.append("")
    lines.append("Data are being updated.")
    return "\n".join(lines)


@st.composite
def reports(draw: st.DrawFn) -> tuple[str, list[Figure], date, str, RawDocument]:
    style, labels = draw(
        st.sampled_from(
            [
                ("official_en", OFFICIAL_EN),
                ("official_uk", OFFICIAL_UK),
                ("official_uk", BILINGUAL),
                ("aggregator_uk", AGGREGATOR),
            ]
        )
    )
    categories = draw(st.lists(st.sampled_from(sorted(labels)), min_size=1, unique=True))
    figures = []
    for category in categories:
        total = draw(st.one_of(st.integers(0, 10**9), st.none()))
        # a delta alone (no total) is what "vehicles and fuel tanks ‒ (+2)." looks like
        lowest_delta = -(10**6) if total is not None else 0
        delta = draw(st.integers(lowest_delta, 10**6))
        if total is not None and draw(st.booleans()):
            delta = None
        qualifier = draw(st.sampled_from([*sorted(QUALIFIER_WORDS[style]), Qualifier.exact]))
        if total is None:
            qualifier = Qualifier.exact
        figures.append(Figure(category, total, delta, qualifier))
    day = date(2022, 2, 24) + timedelta(days=draw(st.integers(0, 3000)))
    published = day + timedelta(days=draw(st.integers(0, 1)))
    text = render(style, labels, figures, day, draw(st.data()))
    doc = RawDocument(id=f"prop-{style}", kind="report", published=published, text=text)
    return style, figures, day, style, doc


@settings(max_examples=200, deadline=None)
@given(reports())
def test_rendered_reports_parse_back_exactly(
    case: tuple[str, list[Figure], date, str, RawDocument],
) -> None:
    style, figures, day, expected_style, doc = case
    parsed = parse_report(doc, today=TODAY)
    assert parsed.style == expected_style
    assert parsed.as_of == day
    got = [(e.category, e.total, e.delta, e.qualifier) for e in parsed.events]
    assert got == [(f.category, f.total, f.delta, f.qualifier) for f in figures]
    for event in parsed.events:
        assert event.official is (style != "aggregator_uk")
        assert doc.text[event.span.start : event.span.end] == event.span.text
        assert event.event_id == loss_event_id(
            doc.id, event.claimant, event.subject, event.category, event.measure, event.span.start
        )
        assert LossEvent.model_validate(event.model_dump()) == event
