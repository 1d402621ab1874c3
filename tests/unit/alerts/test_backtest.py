import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest

from attrition.alerts.backtest import (
    history_deltas,
    obvious_spikes,
    render_text,
    run_backtest,
    score_backtest,
)
from attrition.alerts.settings import AlertSettings
from attrition.contracts.vocabulary import AlertKind, Category, DeltaFlag
from attrition.history import History, load_history

START = date(2023, 3, 1)
WOBBLE = [9, 10, 11, 10, 12, 8, 10]
SPIKE_DAY = 45
CORRECTION_DAY = 60
SKIPPED_DAY = 70


def write_history(
    directory: Path,
    daily: Mapping[str, Sequence[int]],
    corrections: Mapping[int, Mapping[str, int]],
    skip: Sequence[int] = (),
) -> History:
    """Cumulative day records built from daily changes, in the dataset's own file layout."""
    days = len(next(iter(daily.values())))
    totals = dict.fromkeys(daily, 1000)
    records = []
    for n in range(days):
        for name, changes in daily.items():
            totals[name] += changes[n]
        if n not in skip:
            as_of = (START + timedelta(days=n)).isoformat()
            records.append({"date": as_of, "day": n + 1, **totals})
    (directory / "russia_losses_equipment.json").write_text(json.dumps(records), encoding="utf-8")
    revisions = [
        {"date": (START + timedelta(days=n)).isoformat(), **fields}
        for n, fields in corrections.items()
    ]
    (directory / "russia_losses_equipment_correction.json").write_text(
        json.dumps(revisions), encoding="utf-8"
    )
    return load_history(directory)


@pytest.fixture
def history(tmp_path: Path) -> History:
    tanks = [WOBBLE[n % 7] for n in range(90)]
    tanks[SPIKE_DAY] = 60
    tanks[CORRECTION_DAY] = -7
    aircraft = [n % 2 for n in range(90)]
    return write_history(
        tmp_path,
        {"tank": tanks, "aircraft": aircraft},
        {CORRECTION_DAY: {"tank": -15, "aircraft": 0}},
        skip=[SKIPPED_DAY],
    )


def test_history_becomes_flagged_deltas(history: History) -> None:
    deltas = list(history_deltas(history))
    assert [d.as_of for d in deltas] == sorted(d.as_of for d in deltas)
    tanks = {d.as_of: d for d in deltas if d.category is Category.tanks}
    corrected = tanks[START + timedelta(days=CORRECTION_DAY)]
    assert corrected.flags == [DeltaFlag.correction, DeltaFlag.decrease]
    assert corrected.change == -7
    after_gap = tanks[START + timedelta(days=SKIPPED_DAY + 1)]
    assert (after_gap.days, after_gap.flags) == (2, [DeltaFlag.gap])
    first = tanks[START]
    assert first.change is None and first.previous_as_of is None
    aircraft = [d for d in deltas if d.category is Category.aircraft]
    assert all(DeltaFlag.correction not in d.flags for d in aircraft)


def test_backtest_finds_the_spike_and_the_correction(history: History) -> None:
    result = run_backtest(history, AlertSettings())
    spikes = [(a.category, a.as_of) for a in result.of_kind(AlertKind.spike)]
    assert spikes == [(Category.tanks, START + timedelta(days=SPIKE_DAY))]
    quality = [(a.category, a.as_of) for a in result.of_kind(AlertKind.data_quality)]
    assert quality == [(Category.tanks, START + timedelta(days=CORRECTION_DAY))]
    # 90 days with one missing: 89 records, so 88 changes in each of the two categories.
    assert result.category_days == 2 * (90 - 1 - 1)


def test_scores_are_the_issue_figures(history: History) -> None:
    result = run_backtest(history, AlertSettings())
    scores = score_backtest(result, history)
    assert obvious_spikes(history) == {(Category.tanks, START + timedelta(days=SPIKE_DAY))}
    assert scores["obvious_spikes"] == 1
    assert scores["obvious_recall"] == 1.0
    assert scores["spike_rate"] == pytest.approx(1 / result.category_days)
    assert (scores["decreases"], scores["decreases_called_spike"]) == (1, 0)
    assert (scores["correction_dates"], scores["correction_recall"]) == (1, 1.0)


def test_strict_settings_miss_the_spike_and_the_score_says_so(history: History) -> None:
    result = run_backtest(history, AlertSettings(score_threshold=100.0))
    scores = score_backtest(result, history)
    assert (scores["spike_alerts"], scores["obvious_recall"]) == (0, 0.0)


def test_to_json_shape(history: History) -> None:
    payload = run_backtest(history, AlertSettings()).to_json()
    assert payload["category_days"] == 176
    assert json.loads(json.dumps(payload)) == payload
    spike = next(a for a in payload["alerts"] if a["kind"] == "spike")
    assert set(spike) == {"category", "as_of", "kind", "value", "baseline", "score", "explanation"}
    assert spike["category"] == "tanks"
    assert spike["as_of"] == (START + timedelta(days=SPIKE_DAY)).isoformat()
    assert spike["value"] == 60


def test_text_report_lists_alert_days_and_rate(history: History) -> None:
    result = run_backtest(history, AlertSettings())
    text = render_text(result, score_backtest(result, history))
    assert "tanks: 1 spike, 1 data-quality" in text
    assert f"tanks +60 on {(START + timedelta(days=SPIKE_DAY)).isoformat()}" in text
    assert "176 category-days: 1 spike alerts (0.57%)" in text
    assert "obvious spikes alerted 1/1 (100.0%)" in text


def test_plot_writes_a_png(history: History, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from attrition.alerts.plot import plot_backtest

    path = plot_backtest(run_backtest(history, AlertSettings()), history, tmp_path / "bt.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
