"""The closed vocabularies every event speaks: who claims, whose losses, what, how exactly."""

from __future__ import annotations

from enum import StrEnum


class DocumentKind(StrEnum):
    """What a raw document is: an official loss report or prose that quotes figures."""

    report = "report"
    article = "article"


class Claimant(StrEnum):
    """Who states the figure. Figures from different claimants are never mixed."""

    ua_general_staff = "ua_general_staff"
    ru_mod = "ru_mod"
    uk_mod = "uk_mod"
    us_officials = "us_officials"
    unknown = "unknown"


class Subject(StrEnum):
    """Whose losses the figure counts."""

    russia = "russia"
    ukraine = "ukraine"


class Category(StrEnum):
    """Canonical loss categories; `other` keeps a figure whose label is not known yet."""

    personnel = "personnel"
    tanks = "tanks"
    armoured_combat_vehicles = "armoured_combat_vehicles"
    artillery_systems = "artillery_systems"
    mlrs = "mlrs"
    anti_aircraft_systems = "anti_aircraft_systems"
    aircraft = "aircraft"
    helicopters = "helicopters"
    uav = "uav"
    cruise_missiles = "cruise_missiles"
    warships_boats = "warships_boats"
    submarines = "submarines"
    vehicles_fuel_tanks = "vehicles_fuel_tanks"
    special_equipment = "special_equipment"
    ground_robotic_systems = "ground_robotic_systems"
    # Used only in 2022, before the General Staff merged or dropped them.
    vehicles = "vehicles"
    fuel_tanks = "fuel_tanks"
    mobile_srbm_systems = "mobile_srbm_systems"
    other = "other"


class Qualifier(StrEnum):
    """How exact the stated figure is ("about 19600", "more than 100", "up to 540")."""

    exact = "exact"
    about = "about"
    more_than = "more_than"
    at_least = "at_least"
    up_to = "up_to"


class Measure(StrEnum):
    """For personnel: what the number counts."""

    casualties = "casualties"
    killed = "killed"
    wounded = "wounded"
    captured = "captured"


class QualityFlag(StrEnum):
    """Meaning-level doubts about a loss event. A flagged event is kept, never dropped."""

    total_below_previous = "total_below_previous"
    delta_mismatch = "delta_mismatch"
    as_of_in_future = "as_of_in_future"
    as_of_before_war = "as_of_before_war"
    categories_missing = "categories_missing"
    unknown_label = "unknown_label"
    delta_without_total = "delta_without_total"
    matches_report = "matches_report"
    contradicts_report = "contradicts_report"


class DeltaFlag(StrEnum):
    """Why a delta event deserves a second look."""

    reported_delta_mismatch = "reported_delta_mismatch"
    decrease = "decrease"
    gap = "gap"
    late = "late"
    correction = "correction"
    source_disagreement = "source_disagreement"


class AlertKind(StrEnum):
    """A spike is an unusual real change; data_quality is a suspicious figure."""

    spike = "spike"
    data_quality = "data_quality"


class Severity(StrEnum):
    info = "info"
    warning = "warning"
    critical = "critical"


class DeadLetterReason(StrEnum):
    """Why a message produced nothing: a raw message no loss events, or (`invalid_event`) a
    loss-events or deltas message that is no valid batch of its partition's events keyed by the
    first, or an alerts or dead-letters message that is no valid event. Stable codes for
    dashboards and audits."""

    not_utf8 = "not_utf8"
    not_json = "not_json"
    too_large = "too_large"
    invalid_document = "invalid_document"
    not_a_report = "not_a_report"
    no_claims = "no_claims"
    parser_error = "parser_error"
    invalid_event = "invalid_event"


WAR_START_ISO = "2022-02-24"
