"""The pure parts of `attrition bench`: the load it feeds every stage, the percentile it reports
latency with, and the exact key set of its JSON."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta

import pytest

from attrition.bench.load import events_in, loss_events, report_series, series_holding
from attrition.bench.parsers import ParserRates
from attrition.bench.pipeline import percentile
from attrition.bench.runner import BenchFigures, BenchRun, Round, combine, format_table, round_notes
from attrition.parse.document_parser import parse_document
from attrition.parse.label_table import categories_in_use
from attrition.totals.totals_ledger import TotalsLedger

JSON_KEYS = {
    "parse_reports_per_s",
    "parse_articles_per_s",
    "faust_passthrough_events_per_s",
    "raw_ceiling_events_per_s",
    "quix_stateful_events_per_s",
    "totals_stage_events_per_s",
    "pipeline_events_per_s",
    "latency_p50_ms",
    "latency_p99_ms",
    "worker_peak_rss_mb",
    "pipeline_vs_faust",
    "pipeline_vs_raw",
    "totals_vs_quix",
}


def test_generated_series_ends_yesterday_and_each_event_yields_one_delta() -> None:
    assert report_series(1, id_prefix="y")[0].published == date.today() - timedelta(days=1)
    docs = report_series(30, id_prefix="b", last=date(2024, 5, 31))
    assert docs[-1].published == date(2024, 5, 31)
    assert docs[0].published == date(2024, 5, 2)
    events = list(loss_events(docs))
    assert len(events) == 30 * 14 == events_in(docs)  # submarines are listed from 2023-09-14
    ledgers: dict[str, TotalsLedger] = {}
    deltas = 0
    for event in events:
        ledger = ledgers.setdefault(event.totals_key, TotalsLedger.for_event(event))
        deltas += len(ledger.apply(event))
    assert len(ledgers) == 14
    assert deltas == len(events)  # what lets the bench detect a stage's end by counting


@pytest.mark.parametrize("last", [date(2022, 6, 30), date(2023, 9, 20), date(2026, 5, 10)])
def test_generated_reports_list_what_real_ones_of_their_date_list(last: date) -> None:
    # Across each day a category was added: every report is read whole and none is flagged.
    for doc in report_series(20, id_prefix="real", last=last):
        events, warnings = parse_document(doc)
        assert {e.category for e in events} == categories_in_use(doc.published)
        assert len(events) == events_in([doc])
        assert not warnings and not any(e.quality for e in events)


def test_series_holding_is_the_shortest_series_with_enough_events() -> None:
    docs = series_holding(100, id_prefix="h", last=date(2024, 6, 1))
    assert docs[-1].published == date(2024, 6, 1)
    assert events_in(docs) >= 100 > events_in(docs[1:])


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_json_has_exactly_the_documented_keys_and_nulls_print() -> None:
    assert {f.name for f in fields(BenchFigures)} == JSON_KEYS
    figures = BenchFigures(**{key: 1.0 for key in JSON_KEYS})
    figures.quix_stateful_events_per_s = None
    figures.totals_vs_quix = None
    run = BenchRun(figures, {"quix_stateful_events_per_s": "quixstreams is not installed"})
    assert set(run.as_json()) == JSON_KEYS
    assert run.as_json()["quix_stateful_events_per_s"] is None
    table = format_table(run)
    assert "null" in table and "quixstreams is not installed" in table


def _round(faust: float, pipeline: float, quix: float | None, totals: float, rss: float) -> Round:
    return Round(
        raw=30_000.0,
        faust=faust,
        quix=quix,
        totals=totals,
        pipeline=pipeline,
        latency_p50_ms=pipeline / 100,
        latency_p99_ms=pipeline / 50,
        worker_peak_rss_mb=rss,
    )


PARSERS = ParserRates(21_000.0, "corpus", 1_100.0, "corpus")


def test_rounds_give_medians_the_highest_peak_and_the_median_of_each_rounds_ratio() -> None:
    # The machine slowed down in round 2: both figures of that round fell, its ratio did not.
    rounds = [
        _round(faust=3_000, pipeline=9_000, quix=20_000, totals=24_000, rss=300),
        _round(faust=1_000, pipeline=4_000, quix=10_000, totals=13_000, rss=350),
        _round(faust=2_000, pipeline=5_000, quix=18_000, totals=17_000, rss=320),
    ]
    figures = combine(rounds, PARSERS)
    assert figures.faust_passthrough_events_per_s == 2_000
    assert figures.pipeline_events_per_s == 5_000
    assert figures.latency_p99_ms == 100  # the median of 180, 80 and 100
    assert figures.worker_peak_rss_mb == 350
    # Per round 3.0, 4.0 and 2.5: the median is 3.0, where the medians' ratio would be 2.5.
    assert figures.pipeline_vs_faust == 3.0
    assert figures.totals_vs_quix == 1.2  # of 1.2, 1.3 and 0.94
    assert figures.pipeline_vs_raw == pytest.approx(5_000 / 30_000)
    assert figures.parse_reports_per_s == 21_000
    assert set(BenchRun(figures).as_json()) == JSON_KEYS


def test_one_round_is_its_own_figures_and_a_missing_quix_stays_null() -> None:
    only = _round(faust=2_500, pipeline=7_500, quix=None, totals=18_000, rss=330)
    figures = combine([only], PARSERS)
    assert figures.pipeline_vs_faust == 3.0
    assert figures.quix_stateful_events_per_s is None and figures.totals_vs_quix is None
    assert round_notes([only]) == {}


def test_the_table_shows_every_round_next_to_the_median() -> None:
    rounds = [
        _round(faust=3_000, pipeline=9_000, quix=None, totals=24_000, rss=300),
        _round(faust=1_000, pipeline=4_000, quix=None, totals=13_000, rss=350),
    ]
    notes = round_notes(rounds)
    assert notes["pipeline_events_per_s"] == "median of rounds 9,000 / 4,000"
    assert notes["pipeline_vs_faust"] == "median of rounds 3.00 / 4.00"
    assert notes["worker_peak_rss_mb"] == "highest of rounds 300 / 350"
    assert "quix_stateful_events_per_s" not in notes and "totals_vs_quix" not in notes
    table = format_table(BenchRun(combine(rounds, PARSERS), notes))
    assert "6,500  loss events/s  (median of rounds 9,000 / 4,000)" in table
