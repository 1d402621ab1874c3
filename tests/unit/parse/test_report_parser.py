"""The General Staff report parser on small hand-written reports in every wording and quirk."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from attrition.contracts.events import LossEvent, RawDocument, loss_event_id
from attrition.contracts.vocabulary import Category, Measure, Qualifier, QualityFlag
from attrition.evaluation.report_eval import evaluate_reports, format_report_eval
from attrition.parse import report_parser
from attrition.parse.label_table import (
    LABEL_TABLE,
    categories_in_use,
    lookup_label,
    normalise_label,
)
from attrition.parse.report_checks import check_against_previous, check_document
from attrition.parse.report_parser import NotAReport, ReportParse, parse_report

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reports"
TODAY = date(2026, 12, 31)


def make_doc(text: str, published: date, doc_id: str = "doc-1") -> RawDocument:
    return RawDocument(id=doc_id, kind="report", published=published, text=text)


def fixture(name: str, published: date) -> RawDocument:
    return make_doc((FIXTURES / name).read_text(encoding="utf-8"), published, name)


def figures(parsed: ReportParse) -> dict[str, tuple[int | None, int | None]]:
    return {e.category.value: (e.total, e.delta) for e in parsed.events}


def by_category(parsed: ReportParse) -> dict[Category, LossEvent]:
    return {e.category: e for e in parsed.events}


def test_official_english_2022_with_every_quirk() -> None:
    parsed = parse_report(fixture("official_en_2022.txt", date(2022, 7, 31)), today=TODAY)
    assert parsed.style == "official_en"
    assert parsed.as_of == date(2022, 7, 31)
    assert figures(parsed) == {
        "personnel": (40830, 160),
        "tanks": (1763, 4),
        "armoured_combat_vehicles": (4004, 9),
        "artillery_systems": (916, 10),
        "mlrs": (259, 1),
        "anti_aircraft_systems": (117, 0),
        "aircraft": (223, 1),
        "helicopters": (190, 0),
        "uav": (735, 2),
        "cruise_missiles": (174, 0),
        "warships_boats": (15, 0),
        "vehicles_fuel_tanks": (None, 2),
        "special_equipment": (92, 0),
    }
    events = by_category(parsed)
    assert events[Category.personnel].qualifier is Qualifier.about
    assert events[Category.mlrs].qualifier is Qualifier.about  # "‒about" with no space
    assert events[Category.anti_aircraft_systems].label == "-aircraft warfare systems"
    assert events[Category.warships_boats].label == "кораблі /катери / warships / boats"
    assert QualityFlag.delta_without_total in events[Category.vehicles_fuel_tanks].quality
    assert all(e.official for e in parsed.events)


def test_official_english_april_2022_units_and_old_categories() -> None:
    parsed = parse_report(fixture("official_en_2022_april.txt", date(2022, 4, 12)), today=TODAY)
    assert parsed.as_of == date(2022, 4, 12)
    got = figures(parsed)
    assert got["personnel"] == (19600, None)
    assert got["tanks"] == (732, None)
    assert got["vehicles"] == (1406, None)
    assert got["fuel_tanks"] == (76, None)
    assert got["mobile_srbm_systems"] == (4, None)
    assert got["warships_boats"] == (7, None)
    assert len(parsed.events) == 14
    assert not any(e.quality for e in parsed.events)


def test_later_english_wording_with_thousands_separators() -> None:
    parsed = parse_report(fixture("official_en_2026.txt", date(2026, 9, 14)), today=TODAY)
    assert parsed.as_of == date(2026, 9, 14)
    got = figures(parsed)
    assert got["personnel"] == (1121480, 1720)  # commas
    assert got["tanks"] == (11136, 8)  # U+00A0
    assert got["armoured_combat_vehicles"] == (23188, 16)  # U+202F
    assert got["uav"] == (401900, 1205)  # space in total, U+00A0 in delta
    assert got["mlrs"] == (1453, 0)  # bilingual "РСЗВ / MLRS"
    assert got["anti_aircraft_systems"] == (1220, 0)
    assert got["submarines"] == (2, 0)
    assert got["ground_robotic_systems"] == (2100, 12)


def test_unknown_label_is_kept_as_other_with_flag_and_warning() -> None:
    parsed = parse_report(fixture("official_en_2026.txt", date(2026, 9, 14)), today=TODAY)
    other = by_category(parsed)[Category.other]
    assert (other.label, other.total, other.delta) == ("orbital lasers", 3, 1)
    assert other.quality == [QualityFlag.unknown_label]
    assert any("orbital lasers" in w for w in parsed.warnings)


def test_official_ukrainian() -> None:
    parsed = parse_report(fixture("official_uk_2022.txt", date(2022, 7, 8)), today=TODAY)
    assert parsed.style == "official_uk"
    assert parsed.as_of == date(2022, 7, 8)
    assert figures(parsed) == {
        "personnel": (36900, 250),
        "tanks": (1637, 35),
        "armoured_combat_vehicles": (3811, 14),
        "artillery_systems": (828, 13),
        "mlrs": (247, 0),
        "anti_aircraft_systems": (107, 0),
        "aircraft": (217, 0),
        "helicopters": (187, 0),
        "uav": (669, 2),
        "cruise_missiles": (155, 0),
        "warships_boats": (15, 0),
        "vehicles_fuel_tanks": (2685, 20),
        "special_equipment": (66, 0),
    }
    assert by_category(parsed)[Category.personnel].qualifier is Qualifier.about
    assert parsed.warnings == ()


def test_aggregator_wording_is_not_official() -> None:
    parsed = parse_report(fixture("aggregator_uk_2023.txt", date(2023, 3, 25)), today=TODAY)
    assert parsed.style == "aggregator_uk"
    assert parsed.as_of == date(2023, 3, 25)
    got = figures(parsed)
    assert got["personnel"] == (169890, 720)  # delta after the unit
    assert got["anti_aircraft_systems"] == (276, None)
    assert got["warships_boats"] == (18, None)  # "Кораблі (катери)": parentheses in a label
    assert len(got) == 13
    assert not any(e.official for e in parsed.events)


def test_aggregator_early_days_qualifiers() -> None:
    parsed = parse_report(fixture("aggregator_uk_2022_early.txt", date(2022, 2, 26)), today=TODAY)
    events = by_category(parsed)
    assert (events[Category.tanks].total, events[Category.tanks].qualifier) == (
        100,
        Qualifier.more_than,
    )
    assert events[Category.armoured_combat_vehicles].qualifier is Qualifier.up_to
    assert events[Category.aircraft].qualifier is Qualifier.exact
    assert events[Category.personnel].qualifier is Qualifier.more_than
    assert any("prisoners" in w for w in parsed.warnings)


def test_prisoners_delta_is_not_taken_for_the_personnel_delta() -> None:
    text = "05.03.2022\nТанки — 251 (+11)\nОсобовий склад — близько 10000 осіб, 216 полонених (+16)"
    # the "(+16)" belongs to the prisoners, not to the 10000
    parsed = parse_report(make_doc(text, date(2022, 3, 5)), today=TODAY)
    assert figures(parsed)["personnel"] == (10000, None)


@pytest.mark.parametrize(
    ("prefix", "qualifier"),
    [
        ("about", Qualifier.about),
        ("близько", Qualifier.about),
        ("more than", Qualifier.more_than),
        ("понад", Qualifier.more_than),
        ("більше", Qualifier.more_than),
        ("более", Qualifier.more_than),
        ("до", Qualifier.up_to),
        ("", Qualifier.exact),
    ],
)
def test_qualifiers(prefix: str, qualifier: Qualifier) -> None:
    text = f"24.02.2022\nТанки — {prefix} 30\nББМ — 130"
    event = by_category(parse_report(make_doc(text, date(2022, 2, 24)), today=TODAY))[
        Category.tanks
    ]
    assert (event.total, event.qualifier) == (30, qualifier)


@pytest.mark.parametrize(
    "line",
    [
        "tanks ‒ 1880 (+4),",
        "tanks – 1880 (+4),",
        "tanks — 1880 (+4),",
        "tanks - 1880 (+4),",
        "tanks‒ 1880 (+4),",
        "tanks ‒1880 (+4),",
        "tanks 1880 (+4),",
        "tanks ‒ 1880 (+4) од,",
        "tanks ‒ 1880 ( +4 ),",
        "  tanks ‒ 1 880 (+4)  ",
        "Tanks ‒ 1,880 (+4).",
    ],
)
def test_dashes_spacing_and_separators(line: str) -> None:
    text = f"The total combat losses of the enemy from 24.02 to 16.08 were approximately:\n{line}"
    parsed = parse_report(make_doc(text, date(2022, 8, 16)), today=TODAY)
    event = parsed.events[0]
    assert (event.category, event.total, event.delta) == (Category.tanks, 1880, 4)
    assert event.span.text == line.strip()
    assert text[event.span.start : event.span.end] == event.span.text


def test_negative_delta() -> None:
    text = "from 24.02 to 16.08\nAPV ‒ 4152 (‒25),"
    event = parse_report(make_doc(text, date(2022, 8, 16)), today=TODAY).events[0]
    assert event.delta == -25


EN = "The total combat losses of the enemy from"
UK = "Загальні бойові втрати противника з"


@pytest.mark.parametrize(
    ("header", "published", "as_of"),
    [
        (f"{EN} 24.02 to 12.04 were", date(2022, 4, 12), date(2022, 4, 12)),
        (f"{EN} 24.02 to 31.12 were", date(2023, 1, 1), date(2022, 12, 31)),
        (f"{EN} 24.02 to 01.01 were", date(2022, 12, 31), date(2023, 1, 1)),
        (f"{EN} 24.02.22 to 02.10.23 were", date(2023, 10, 2), date(2023, 10, 2)),
        (f"{EN} 24.02.2022 to 14.09.2023 were", date(2023, 9, 15), date(2023, 9, 14)),
        (f"{UK} 24.02.22 по 02.10.23 орієнтовно склали:", date(2023, 10, 2), date(2023, 10, 2)),
        ("25.03.2023", date(2023, 3, 25), date(2023, 3, 25)),
    ],
)
def test_header_dates(header: str, published: date, as_of: date) -> None:
    parsed = parse_report(make_doc(f"{header}\ntanks ‒ 10 (+1)", published), today=TODAY)
    assert parsed.as_of == as_of
    assert all(e.as_of == as_of for e in parsed.events)


def test_missing_header_falls_back_to_published_with_warning() -> None:
    parsed = parse_report(make_doc("tanks ‒ 10 (+1)\nAPV ‒ 20", date(2022, 8, 1)), today=TODAY)
    assert parsed.as_of == date(2022, 8, 1)
    assert any("no header date" in w for w in parsed.warnings)


def test_event_fields_ids_and_spans() -> None:
    doc = fixture("official_uk_2022.txt", date(2022, 7, 8))
    parsed = parse_report(doc, today=TODAY)
    for event in parsed.events:
        assert event.source_id == doc.id
        assert event.claimant.value == "ua_general_staff"
        assert event.subject.value == "russia"
        assert event.source_kind.value == "report"
        assert doc.text[event.span.start : event.span.end] == event.span.text
        assert event.label is not None and event.label in event.span.text
        expected_measure = Measure.casualties if event.category is Category.personnel else None
        assert event.measure is expected_measure
        assert event.event_id == loss_event_id(
            doc.id, event.claimant, event.subject, event.category, event.measure, event.span.start
        )
    assert len({e.event_id for e in parsed.events}) == len(parsed.events)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.txt")))
def test_constructed_events_equal_validated_events(name: str) -> None:
    try:
        parsed = parse_report(fixture(name, date(2022, 7, 31)), today=TODAY)
    except NotAReport:
        return
    for event in parsed.events:
        dumped = event.model_dump()
        assert list(dumped) == list(LossEvent.model_fields)
        assert LossEvent.model_validate(dumped) == event
        assert LossEvent.model_validate_json(event.model_dump_json()) == event
        assert event.model_copy(update={"quality": []}).quality == []


def test_event_ids_fall_back_to_the_contract_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = fixture("official_en_2022.txt", date(2022, 7, 31))
    fast = parse_report(doc, today=TODAY)
    monkeypatch.setattr(report_parser, "_FAST_IDS_AGREE", False)
    slow = parse_report(doc, today=TODAY)
    assert [e.event_id for e in slow.events] == [e.event_id for e in fast.events]


def test_parsing_twice_gives_the_same_events() -> None:
    doc = fixture("official_en_2022.txt", date(2022, 7, 31))
    assert parse_report(doc, today=TODAY) == parse_report(doc, today=TODAY)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no loss lines found"),
        ("Data are being updated.\nStrike the occupier!", "no loss lines found"),
        ("The total combat losses of the enemy from 24.02 to 12.04 were:", "no loss lines found"),
        ("orbital lasers ‒ 3 (+1)", "no loss lines found"),
    ],
)
def test_not_a_report(text: str, reason: str) -> None:
    with pytest.raises(NotAReport, match=reason):
        parse_report(make_doc(text, date(2022, 4, 12)), today=TODAY)


def test_prose_is_not_a_report() -> None:
    with pytest.raises(NotAReport):
        parse_report(fixture("not_a_report.txt", date(2023, 3, 12)), today=TODAY)


def test_long_lines_are_skipped_with_a_warning() -> None:
    text = "from 24.02 to 12.04\n" + "x" * 500 + "\ntanks ‒ 10 (+1)"
    parsed = parse_report(make_doc(text, date(2022, 4, 12)), max_line_chars=100, today=TODAY)
    assert figures(parsed) == {"tanks": (10, 1)}
    assert any("line 2 skipped" in w for w in parsed.warnings)


def test_figure_beyond_the_contract_bound_is_skipped_with_a_warning() -> None:
    text = "from 24.02 to 12.04\ntanks ‒ " + "9" * 1000 + " (+1)\nAPV ‒ 5 (+1)"
    parsed = parse_report(make_doc(text, date(2022, 4, 12)), today=TODAY)
    assert figures(parsed) == {"armoured_combat_vehicles": (5, 1)}
    assert any("out of range" in w for w in parsed.warnings)


def test_document_checks_flag_future_and_pre_war_dates() -> None:
    future = parse_report(
        make_doc("from 24.02 to 12.04\ntanks ‒ 10", date(2022, 4, 12)), today=date(2022, 4, 11)
    )
    assert all(QualityFlag.as_of_in_future in e.quality for e in future.events)
    before = parse_report(make_doc("01.02.2022\nТанки — 10", date(2022, 2, 1)), today=TODAY)
    assert all(QualityFlag.as_of_before_war in e.quality for e in before.events)


def test_missing_categories_are_flagged_and_named() -> None:
    text = (FIXTURES / "official_en_2022.txt").read_text(encoding="utf-8")
    text = text.replace("special equipment ‒ 92 (+0).", "")
    parsed = parse_report(make_doc(text, date(2022, 7, 31)), today=TODAY)
    assert all(QualityFlag.categories_missing in e.quality for e in parsed.events)
    assert any("special_equipment" in w for w in parsed.warnings)
    assert len(parsed.events) == 12  # flagged, never dropped


def test_check_against_previous() -> None:
    parsed = parse_report(
        make_doc("from 24.02 to 12.04\ntanks ‒ 100 (+5)", date(2022, 4, 12)), today=TODAY
    )
    event = parsed.events[0].model_copy(update={"quality": []})  # drop categories_missing
    assert check_against_previous(event, date(2022, 4, 11), 95).quality == []
    mismatch = check_against_previous(event, date(2022, 4, 11), 90)
    assert mismatch.quality == [QualityFlag.delta_mismatch]
    below = check_against_previous(event, date(2022, 4, 11), 120)
    assert set(below.quality) == {QualityFlag.total_below_previous, QualityFlag.delta_mismatch}
    assert check_against_previous(event, date(2022, 4, 9), 90).quality == []  # longer gap
    twice = check_against_previous(mismatch, date(2022, 4, 11), 90)
    assert twice.quality == [QualityFlag.delta_mismatch]


def test_check_document_without_doubts_leaves_events_alone() -> None:
    parsed = parse_report(fixture("official_uk_2022.txt", date(2022, 7, 8)), today=TODAY)
    events, warnings = check_document(parsed.events, as_of=parsed.as_of, today=TODAY)
    assert events == list(parsed.events)
    assert warnings == []


def test_label_table_resolves_every_label_it_lists() -> None:
    for entry in LABEL_TABLE:
        for use in entry.labels:
            found = lookup_label(use.text)
            assert found is not None and found.category is entry.category, use.text
            assert use.wording in found.wordings


def test_label_normalisation_and_bilingual_lookup() -> None:
    assert (
        normalise_label("  Anti-aircraft   warfare\u00a0systems ")
        == "anti aircraft warfare systems"
    )
    assert lookup_label("РСЗВ / MLRS") is not None
    found = lookup_label("особового складу / personnel")
    assert found is not None and found.category is Category.personnel
    assert lookup_label("orbital lasers") is None
    assert lookup_label("/" * 50) is None


def test_categories_in_use_follow_the_merges() -> None:
    assert Category.vehicles in categories_in_use(date(2022, 4, 30))
    assert Category.vehicles not in categories_in_use(date(2022, 5, 1))
    assert Category.vehicles_fuel_tanks in categories_in_use(date(2022, 5, 1))
    assert Category.submarines not in categories_in_use(date(2023, 9, 13))
    assert Category.submarines in categories_in_use(date(2023, 9, 14))


def test_evaluation_on_a_small_corpus(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    doc = fixture("official_uk_2022.txt", date(2022, 7, 8))
    (reports / "uk.jsonl").write_text(doc.model_dump_json() + "\n", encoding="utf-8")
    expected = {
        "id": doc.id,
        "as_of": "2022-07-08",
        "figures": {"tanks": {"total": 1637, "delta": 35}, "aircraft": {"total": 999, "delta": 0}},
    }
    (reports / "uk.expected.jsonl").write_text(json.dumps(expected) + "\n", encoding="utf-8")
    truth = tmp_path / "truth" / "petroivaniuk"
    truth.mkdir(parents=True)
    (truth / "russia_losses_equipment.json").write_text(
        json.dumps([{"date": "2022-07-08", "tank": 1637, "APC": 3800}]), encoding="utf-8"
    )
    (truth / "russia_losses_personnel.json").write_text(
        json.dumps([{"date": "2022-07-08", "personnel": 36900}]), encoding="utf-8"
    )
    result = evaluate_reports(tmp_path, tmp_path / "none", repetitions=1, today=TODAY)
    (item,) = result.files
    assert item.reports == 1
    # as_of, tanks ×2, aircraft ×2 and 11 extra categories ×2
    assert item.values == 1 + 4 + 22
    assert item.exact == 1 + 2 + 1
    assert (item.truth_compared, item.truth_agree) == (3, 2)
    assert result.reports_per_second > 0
    rendered = format_report_eval(result)
    assert "armoured_combat_vehicles: parsed 3811, truth 3800" in rendered
    assert "aircraft: parsed 217, expected 999" in rendered
