import json
import random
from collections.abc import Sequence
from datetime import date, timedelta

from attrition.alerts.settings import AlertSettings
from attrition.alerts.spike_detector import SpikeDetector, alert_id
from attrition.contracts.events import AlertEvent, DeltaEvent, stable_id, totals_key
from attrition.contracts.vocabulary import (
    AlertKind,
    Category,
    Claimant,
    DeltaFlag,
    DocumentKind,
    Severity,
    Subject,
)

START = date(2023, 1, 1)
NOISE = [9, 10, 11, 10, 12, 8, 10]  # a flat series with some day-to-day wobble


def day(n: int) -> date:
    return START + timedelta(days=n)


def make_delta(
    n: int,
    change: int,
    *,
    category: Category = Category.tanks,
    days: int = 1,
    flags: Sequence[DeltaFlag] = (),
    reported: int | None = None,
    previous_total: int = 1000,
) -> DeltaEvent:
    as_of = day(n)
    previous_as_of = as_of - timedelta(days=days)
    total = previous_total + change
    return DeltaEvent(
        delta_id=stable_id("delta", category, as_of, previous_as_of, previous_total, total),
        claimant=Claimant.ua_general_staff,
        subject=Subject.russia,
        category=category,
        source_kind=DocumentKind.report,
        as_of=as_of,
        total=max(total, 0),
        previous_as_of=previous_as_of,
        previous_total=previous_total,
        change=change,
        reported_delta=reported,
        days=days,
        flags=list(flags),
        source_id=f"test:{as_of}",
        event_id=f"event:{as_of}",
    )


def series(changes: Sequence[int], category: Category = Category.tanks) -> list[DeltaEvent]:
    return [make_delta(n, c, category=category) for n, c in enumerate(changes)]


def run(detector: SpikeDetector, deltas: Sequence[DeltaEvent]) -> list[AlertEvent]:
    return [alert for delta in deltas for alert in detector.observe(delta)]


def flat(days: int) -> list[int]:
    return [NOISE[n % len(NOISE)] for n in range(days)]


def test_flat_series_with_a_spike_raises_one_explained_alert() -> None:
    alerts = run(SpikeDetector(), series([*flat(30), 70, *flat(10)]))
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.kind is AlertKind.spike
    assert alert.as_of == day(30)
    assert alert.value == 70
    assert alert.baseline == 10
    assert alert.score is not None and alert.threshold is not None
    assert alert.score >= alert.threshold
    assert alert.severity is Severity.critical  # 70 ≥ 4 × max(median 10, floor 15)
    assert alert.explanation.startswith(
        f"tanks +70 on {day(30).isoformat()}: 7.0× the 28-day median of 10 (robust score"
    )
    assert alert.alert_id == alert_id(make_delta(30, 70), AlertKind.spike)


def test_moderate_jump_is_a_warning_and_wobble_is_silent() -> None:
    alerts = run(SpikeDetector(), series([*flat(30), 30]))
    assert [(a.as_of, a.severity) for a in alerts] == [(day(30), Severity.warning)]


def test_slow_surge_is_not_a_spike() -> None:
    surge = [10 + n // 2 + (n % 3) for n in range(120)]  # from 10 a day to 70 a day
    assert run(SpikeDetector(), series(surge)) == []


def test_small_counts_need_the_floor() -> None:
    quiet = [0] * 30
    assert run(SpikeDetector(), series([*quiet, 2], Category.aircraft)) == []
    alerts = run(SpikeDetector(), series([*quiet, 6], Category.aircraft))
    assert len(alerts) == 1
    assert "against a 28-day median of 0 (floor 4" in alerts[0].explanation
    assert alerts[0].explanation.startswith("aircraft +6 on")


def test_silent_before_min_history() -> None:
    assert run(SpikeDetector(), series([10, 10, 10, 10, 200])) == []


def test_decrease_is_data_quality_never_a_spike() -> None:
    detector = SpikeDetector()
    run(detector, series(flat(30)))
    alerts = detector.observe(make_delta(30, -5, flags=[DeltaFlag.decrease]))
    assert [(a.kind, a.severity) for a in alerts] == [(AlertKind.data_quality, Severity.warning)]
    assert "fell from 1000 to 995" in alerts[0].explanation
    assert alerts[0].value == -5
    # A negative change without the flag is still a data-quality event.
    unflagged = detector.observe(make_delta(31, -3))
    assert [a.kind for a in unflagged] == [AlertKind.data_quality]


def test_correction_and_mismatch_stay_out_of_the_baseline() -> None:
    detector = SpikeDetector()
    key = totals_key(Claimant.ua_general_staff, Subject.russia, Category.tanks)
    run(detector, series(flat(30)))
    before = detector.baseline(key, day(40))
    correction = detector.observe(make_delta(30, 500, flags=[DeltaFlag.correction]))
    mismatch = detector.observe(
        make_delta(31, 400, flags=[DeltaFlag.reported_delta_mismatch], reported=12)
    )
    assert [a.kind for a in correction + mismatch] == [AlertKind.data_quality] * 2
    assert "an official correction" in correction[0].explanation
    assert "stated change +12 disagrees" in mismatch[0].explanation
    assert correction[0].severity is Severity.info
    assert detector.baseline(key, day(40)) == before


def test_data_quality_replacement_removes_the_days_clean_rate() -> None:
    detector = SpikeDetector()
    key = totals_key(Claimant.ua_general_staff, Subject.russia, Category.tanks)
    run(detector, series([*flat(29), 60]))
    with_spike = detector.baseline(key, day(31))
    detector.observe(make_delta(29, 58, flags=[DeltaFlag.correction], previous_total=999))
    without = detector.baseline(key, day(31))
    assert with_spike is not None and without is not None
    assert without.days == with_spike.days - 1


def test_gap_is_normalised_by_days() -> None:
    detector = SpikeDetector()
    run(detector, series(flat(30)))
    assert detector.observe(make_delta(32, 40, days=2)) == []  # 20 a day: not 2.5× the median
    alerts = detector.observe(make_delta(35, 150, days=3))
    assert len(alerts) == 1
    assert alerts[0].value == 50
    assert f"tanks +150 over 3 days to {day(35).isoformat()} (50/day)" in alerts[0].explanation


def test_late_delta_is_judged_against_the_days_before_it() -> None:
    deltas = series([*flat(20), 60, *flat(20)])
    spike = deltas.pop(20)
    detector = SpikeDetector()
    assert run(detector, deltas) == []
    alerts = detector.observe(spike)
    assert [(a.as_of, a.kind, a.baseline) for a in alerts] == [(day(20), AlertKind.spike, 10)]


def test_reports_a_few_days_late_give_the_same_alerts() -> None:
    changes = [*flat(40), 55, *flat(15), 70, *flat(10)]
    in_order = run(SpikeDetector(), series(changes))
    deltas = series(changes)
    shuffled: list[DeltaEvent] = []
    shuffler = random.Random(7)
    for start in range(0, len(deltas), 4):
        block = deltas[start : start + 4]
        shuffler.shuffle(block)
        shuffled += block
    late = run(SpikeDetector(), shuffled)
    assert sorted(a.alert_id for a in late) == sorted(a.alert_id for a in in_order)
    assert len(in_order) == 2


def test_a_day_that_came_before_its_history_is_judged_once_the_history_arrives() -> None:
    deltas = series([*flat(30), 70, *flat(5)])
    spike = deltas.pop(30)
    detector = SpikeDetector()
    assert detector.observe(spike) == []  # nothing before it yet: it waits
    alerts = [(n, a) for n, d in enumerate(deltas) for a in detector.observe(d)]
    # Judged when the 14th day of its window came (days 2 to 15), and only then.
    assert [(n, a.as_of, a.kind, a.baseline) for n, a in alerts] == [
        (15, day(30), AlertKind.spike, 10)
    ]
    in_order = run(SpikeDetector(), series([*flat(30), 70, *flat(5)]))
    assert [a.alert_id for _, a in alerts] == [a.alert_id for a in in_order]


def test_a_shuffled_history_gives_the_alerts_of_the_same_history_in_order() -> None:
    changes = [*flat(40), 55, *flat(15), 70, *flat(10), 90, *flat(30)]
    in_order = sorted(a.alert_id for a in run(SpikeDetector(), series(changes)))
    assert len(in_order) == 3
    for seed in range(8):  # before waiting days were judged, 4 of these 8 orders lost alerts
        deltas = series(changes)
        random.Random(seed).shuffle(deltas)
        assert sorted(a.alert_id for a in run(SpikeDetector(), deltas)) == in_order


def test_a_waiting_day_replaced_by_a_suspect_figure_is_not_judged() -> None:
    deltas = series([*flat(30), 70, *flat(5)])
    spike = deltas.pop(30)
    detector = SpikeDetector()
    detector.observe(spike)
    correction = make_delta(30, 12, flags=[DeltaFlag.correction])
    assert [a.kind for a in detector.observe(correction)] == [AlertKind.data_quality]
    assert run(detector, deltas) == []


def test_waiting_days_survive_a_state_round_trip_and_the_horizon_drops_them() -> None:
    deltas = series([*flat(30), 70, *flat(5)])
    spike = deltas.pop(30)
    first = SpikeDetector()
    first.observe(spike)
    state = json.loads(json.dumps(first.to_state()))
    assert list(state["keys"][spike.totals_key]["waiting"]) == [day(30).isoformat()]
    restored = SpikeDetector.from_state(state)
    assert [a.as_of for a in run(restored, deltas)] == [day(30)]
    # Far behind the newest day, a waiting day is dropped rather than judged.
    late = SpikeDetector(AlertSettings(horizon_days=40))
    late.observe(spike)
    late.observe(make_delta(80, 10))  # waits too: nothing before it
    waiting = late.to_state()["keys"][spike.totals_key]["waiting"]
    assert list(waiting) == [day(80).isoformat()]
    assert run(late, deltas) == []


def test_deltas_behind_the_horizon_are_ignored() -> None:
    detector = SpikeDetector(AlertSettings(horizon_days=40))
    run(detector, series(flat(100)))
    assert detector.observe(make_delta(10, -50)) == []


def test_duplicates_and_replays_raise_nothing_twice() -> None:
    deltas = series([*flat(30), 50, -2, *flat(5)])
    detector = SpikeDetector()
    first = run(detector, deltas)
    assert [a.kind for a in first] == [AlertKind.spike, AlertKind.data_quality]
    assert run(detector, deltas) == []
    assert run(SpikeDetector(), deltas) == first  # a fresh replay yields the same alerts


def test_second_delta_for_the_same_day_does_not_repeat_the_alert() -> None:
    detector = SpikeDetector()
    run(detector, series([*flat(30), 50]))
    revised = make_delta(30, 52, previous_total=998)
    assert detector.observe(revised) == []


def test_state_round_trip_through_json() -> None:
    deltas = series([*flat(30), 45, *flat(10), -1, *flat(5), 80])
    whole = run(SpikeDetector(), deltas)

    first = SpikeDetector()
    part = run(first, deltas[:35])
    restored = SpikeDetector.from_state(json.loads(json.dumps(first.to_state())))
    part += run(restored, deltas[35:])
    assert part == whole
    assert restored.to_state() == SpikeDetector.from_state(restored.to_state()).to_state()


def test_key_state_round_trip_for_a_keyed_table() -> None:
    deltas = series([*flat(30), 45])
    key = totals_key(Claimant.ua_general_staff, Subject.russia, Category.tanks)
    first = SpikeDetector()
    run(first, deltas[:-1])
    stored = json.loads(json.dumps(first.key_state(key)))
    second = SpikeDetector()
    assert second.key_state(key) is None
    second.load_key_state(key, stored)
    assert [a.as_of for a in second.observe(deltas[-1])] == [day(30)]
    second.load_key_state(key, None)
    assert second.key_state(key) is None


def test_unknown_state_version_is_refused() -> None:
    try:
        SpikeDetector.from_state({"version": 99, "keys": {}})
    except ValueError as error:
        assert "version" in str(error)
    else:
        raise AssertionError("a state of unknown version was accepted")


def test_state_stays_bounded() -> None:
    settings = AlertSettings(horizon_days=60, max_remembered_ids=64)
    detector = SpikeDetector(settings)
    run(detector, series([NOISE[n % 7] * (1 + 4 * (n % 37 == 0)) for n in range(1000)]))
    state = detector.to_state()["keys"]
    key_state = next(iter(state.values()))
    assert len(key_state["window"]) <= 61
    assert len(key_state["seen"]) <= 64


def test_keys_are_independent() -> None:
    detector = SpikeDetector()
    run(detector, series(flat(30), Category.tanks))
    # The UAV series has no history yet, so its first big day cannot be judged.
    assert detector.observe(make_delta(30, 500, category=Category.uav)) == []
    assert [a.category for a in detector.observe(make_delta(30, 60))] == [Category.tanks]


def test_per_category_threshold_override() -> None:
    strict = AlertSettings(score_thresholds={Category.tanks: 50.0})
    assert run(SpikeDetector(strict), series([*flat(30), 50])) == []


def test_reissue_after_a_late_predecessor_is_not_a_correction() -> None:
    detector = SpikeDetector()
    run(detector, series(flat(30)))
    over_gap = make_delta(31, 20, days=2)
    assert detector.observe(over_gap) == []
    assert detector.observe(make_delta(30, 10)) == []  # the late day fills the gap
    rebased = make_delta(31, 10, flags=[DeltaFlag.correction], previous_total=1010)
    rebased = rebased.model_copy(update={"replaces": over_gap.delta_id})
    assert rebased.total == over_gap.total
    assert detector.observe(rebased) == []

    revised = make_delta(31, 45, flags=[DeltaFlag.correction], previous_total=1010)
    revised = revised.model_copy(update={"replaces": rebased.delta_id})
    assert [a.kind for a in detector.observe(revised)] == [AlertKind.data_quality]
