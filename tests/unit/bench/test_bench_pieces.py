"""The pure parts of `attrition bench`: the load it feeds every stage, the percentile it reports
latency with, and the exact key set of its JSON."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta

import pytest

from attrition.bench.load import events_in, loss_events, report_series, series_holding
from attrition.bench.pipeline import percentile
from attrition.bench.runner import BenchFigures, BenchRun, format_table
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
