"""Every loss-report label the parser knows, in one table: which canonical category it names,
in which wording it is written, and roughly when it was in use.

Dates are approximate: they come from the corpus (first and last day a label was seen there)
and from the structured truth datasets (first and last day a category carries a figure). An
open end (`None`) means the label is still in use. They drive `categories_missing`, so a date
that is a few days off produces a flag on a boundary day, never a lost figure.

Matching is a normalised dictionary lookup (`normalise_label`): case, spacing, slashes,
hyphens and other punctuation do not matter, so "Anti-aircraft  warfare systems" and
"anti aircraft warfare systems" are the same key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Final

from attrition.contracts.vocabulary import Category

OFFICIAL_EN: Final = "official_en"
OFFICIAL_UK: Final = "official_uk"
AGGREGATOR_UK: Final = "aggregator_uk"
WORDINGS: Final = (OFFICIAL_EN, OFFICIAL_UK, AGGREGATOR_UK)

WAR_START: Final = date(2022, 2, 24)


@dataclass(frozen=True, slots=True)
class LabelUse:
    """One way a category is written, in one wording, over a span of days."""

    text: str
    wording: str
    first_seen: date
    last_seen: date | None = None


@dataclass(frozen=True, slots=True)
class CategoryLabels:
    """A canonical category, the days the General Staff reported it, and its labels."""

    category: Category
    in_use_from: date
    in_use_until: date | None
    labels: tuple[LabelUse, ...]


def _en(text: str, first: date = WAR_START, last: date | None = None) -> LabelUse:
    return LabelUse(text, OFFICIAL_EN, first, last)


def _uk(text: str, first: date = WAR_START, last: date | None = None) -> LabelUse:
    return LabelUse(text, OFFICIAL_UK, first, last)


def _agg(text: str, first: date = WAR_START, last: date | None = None) -> LabelUse:
    return LabelUse(text, AGGREGATOR_UK, first, last)


_MERGE_DAY = date(2022, 5, 1)  # vehicles + fuel tanks merged, SRBM launchers joined missiles
_LAST_UNMERGED_DAY = date(2022, 4, 30)
_FULL_LIST_DAY = date(2022, 2, 27)  # first day the reports list artillery, MLRS, air defence…

LABEL_TABLE: Final[tuple[CategoryLabels, ...]] = (
    CategoryLabels(
        Category.personnel,
        WAR_START,
        None,
        (
            _en("personnel"),
            _uk("особового складу"),
            _uk("особовий склад"),
            _agg("Особовий склад"),
        ),
    ),
    CategoryLabels(
        Category.tanks,
        WAR_START,
        None,
        (_en("tanks"), _uk("танків"), _uk("танки"), _agg("Танки")),
    ),
    CategoryLabels(
        Category.armoured_combat_vehicles,
        WAR_START,
        None,
        (
            _en("APV"),
            _en("APVs"),
            _en("AFV"),
            _en("AFVs"),
            _en("troop-carrying AFVs", date(2023, 1, 1)),
            _en("troop-carrying armoured vehicles", date(2023, 1, 1)),
            _en("armoured combat vehicles"),
            _en("armored combat vehicles"),
            _en("armoured personnel vehicles"),
            _uk("бойових броньованих машин"),
            _uk("бойові броньовані машини"),
            _uk("ББМ"),
            _agg("ББМ"),
        ),
    ),
    CategoryLabels(
        Category.artillery_systems,
        _FULL_LIST_DAY,
        None,
        (
            _en("artillery systems"),
            _en("artillery"),
            _uk("артилерійських систем"),
            _uk("артилерійські системи"),
            _agg("Гармати", _FULL_LIST_DAY),
        ),
    ),
    CategoryLabels(
        Category.mlrs,
        _FULL_LIST_DAY,
        None,
        (
            _en("MLRS"),
            _en("multiple rocket launchers"),
            _uk("РСЗВ"),
            _agg("РСЗВ", _FULL_LIST_DAY),
        ),
    ),
    CategoryLabels(
        Category.anti_aircraft_systems,
        _FULL_LIST_DAY,
        None,
        (
            _en("Anti-aircraft warfare systems"),
            _en("anti-aircraft systems", date(2023, 1, 1)),
            _en("air defense systems"),
            _en("air defence systems"),
            # The page's markup once swallowed "Anti": the rest of the label is still ours.
            _en("-aircraft warfare systems"),
            _uk("засоби ППО"),
            _uk("засобів ППО"),
            _agg("Засоби ППО", _FULL_LIST_DAY),
        ),
    ),
    CategoryLabels(
        Category.aircraft,
        WAR_START,
        None,
        (_en("aircraft"), _en("planes"), _uk("літаків"), _uk("літаки"), _agg("Літаки")),
    ),
    CategoryLabels(
        Category.helicopters,
        WAR_START,
        None,
        (_en("helicopters"), _uk("гелікоптерів"), _uk("гелікоптери"), _agg("Гелікоптери")),
    ),
    CategoryLabels(
        Category.uav,
        _FULL_LIST_DAY,
        None,
        (
            _en("UAV operational-tactical level"),
            _en("UAVs operational-tactical level"),
            _en("UAV operational and tactical level"),
            _en("UAV"),
            _en("UAVs"),
            _en("drones", date(2023, 1, 1)),
            _uk("БПЛА оперативно-тактичного рівня"),
            _uk("БпЛА оперативно-тактичного рівня"),
            _uk("безпілотники"),
            _uk("БПЛА"),
            _agg("БПЛА", _FULL_LIST_DAY),
        ),
    ),
    CategoryLabels(
        Category.cruise_missiles,
        _MERGE_DAY,
        None,
        (
            _en("cruise missiles", _MERGE_DAY),
            _uk("крилаті ракети", _MERGE_DAY),
            _uk("крилатих ракет", _MERGE_DAY),
            _agg("Крилаті ракети", _MERGE_DAY),
        ),
    ),
    CategoryLabels(
        Category.warships_boats,
        _FULL_LIST_DAY,
        None,
        (
            _en("boats / cutters", _FULL_LIST_DAY, date(2022, 5, 10)),
            _en("warships / boats", date(2022, 5, 10)),
            _en("ships / boats", date(2022, 5, 10)),
            _uk("кораблі / катери"),
            _uk("кораблів / катерів"),
            _agg("Кораблі (катери)", _FULL_LIST_DAY),
        ),
    ),
    CategoryLabels(
        Category.submarines,
        date(2023, 9, 14),
        None,
        (
            _en("submarines", date(2023, 9, 14)),
            _uk("підводні човни", date(2023, 9, 14)),
            _uk("підводних човнів", date(2023, 9, 14)),
        ),
    ),
    CategoryLabels(
        Category.vehicles_fuel_tanks,
        _MERGE_DAY,
        None,
        (
            _en("vehicles and fuel tanks", _MERGE_DAY),
            _en("automotive equipment and fuel tanks", _MERGE_DAY),
            _uk("автомобільної техніки та автоцистерн", _MERGE_DAY),
            _uk("автомобільна техніка та автоцистерни", _MERGE_DAY),
            _agg("Автомобілі та автоцистерни", _MERGE_DAY),
        ),
    ),
    CategoryLabels(
        Category.special_equipment,
        date(2022, 3, 16),
        None,
        (
            _en("special equipment", date(2022, 3, 16)),
            _uk("спеціальна техніка", date(2022, 3, 16)),
            _uk("спеціальної техніки", date(2022, 3, 16)),
            _agg("Спеціальна техніка", date(2022, 3, 16)),
        ),
    ),
    CategoryLabels(
        Category.ground_robotic_systems,
        date(2026, 5, 3),
        None,
        (
            _en("ground robotic systems", date(2026, 5, 3)),
            _uk("наземні роботизовані комплекси", date(2026, 5, 3)),
            _uk("наземних роботизованих комплексів", date(2026, 5, 3)),
        ),
    ),
    CategoryLabels(
        Category.vehicles,
        date(2022, 2, 28),
        _LAST_UNMERGED_DAY,
        (
            _en("vehicles", date(2022, 2, 28), _LAST_UNMERGED_DAY),
            _uk("автомобільної техніки", date(2022, 2, 28), _LAST_UNMERGED_DAY),
            _agg("Автомобілі", date(2022, 2, 28), _LAST_UNMERGED_DAY),
        ),
    ),
    CategoryLabels(
        Category.fuel_tanks,
        date(2022, 3, 2),
        _LAST_UNMERGED_DAY,
        (
            _en("fuel tanks", date(2022, 3, 2), _LAST_UNMERGED_DAY),
            _uk("цистерн з ППМ", date(2022, 3, 2), _LAST_UNMERGED_DAY),
            _uk("автоцистерн", date(2022, 3, 2), _LAST_UNMERGED_DAY),
            _agg("Цистерни з ППМ", date(2022, 3, 2), _LAST_UNMERGED_DAY),
        ),
    ),
    CategoryLabels(
        Category.mobile_srbm_systems,
        date(2022, 3, 26),
        _LAST_UNMERGED_DAY,
        (
            _en("mobile SRBM system", date(2022, 3, 26), _LAST_UNMERGED_DAY),
            _en("mobile SRBM systems", date(2022, 3, 26), _LAST_UNMERGED_DAY),
            _uk("пускових установок ОТРК", date(2022, 3, 26), _LAST_UNMERGED_DAY),
            _agg("Пускові установки ОТРК", date(2022, 3, 26), _LAST_UNMERGED_DAY),
        ),
    ),
)

_PUNCTUATION = re.compile(r"[\W_]+")


def normalise_label(raw: str) -> str:
    """The lookup key of a label: lower case, punctuation and runs of spaces as one space."""
    return _PUNCTUATION.sub(" ", raw.lower()).strip()


@dataclass(frozen=True, slots=True)
class LabelMatch:
    category: Category
    wordings: frozenset[str]


def _build_index() -> dict[str, LabelMatch]:
    index: dict[str, LabelMatch] = {}
    for entry in LABEL_TABLE:
        for use in entry.labels:
            key = normalise_label(use.text)
            known = index.get(key)
            if known is not None and known.category is not entry.category:
                raise ValueError(f"label {use.text!r} names two categories")
            wordings = (known.wordings if known else frozenset()) | {use.wording}
            index[key] = LabelMatch(entry.category, wordings)
    return index


_INDEX: Final = _build_index()
_SLASHES_TRIED: Final = 6  # bilingual labels have at most a few; more is not a label


def lookup_label(raw: str) -> LabelMatch | None:
    """The category a label names, or None. Bilingual labels ("РСЗВ / MLRS",
    "кораблі /катери / warships / boats") match when either language side is known."""
    found = _INDEX.get(normalise_label(raw))
    if found is not None or "/" not in raw:
        return found
    pieces = raw.split("/")
    if len(pieces) > _SLASHES_TRIED + 1:
        return None
    for cut in range(1, len(pieces)):
        left = _INDEX.get(normalise_label("/".join(pieces[:cut])))
        right = _INDEX.get(normalise_label("/".join(pieces[cut:])))
        if left is not None and right is not None and left.category is not right.category:
            continue
        if left is not None and right is not None:
            return LabelMatch(left.category, left.wordings | right.wordings)
        if left is not None or right is not None:
            return left or right
    return None


@lru_cache(maxsize=4096)
def categories_in_use(on: date) -> frozenset[Category]:
    """Categories the General Staff's daily report listed on a given day."""
    return frozenset(
        entry.category
        for entry in LABEL_TABLE
        if entry.in_use_from <= on and (entry.in_use_until is None or on <= entry.in_use_until)
    )
