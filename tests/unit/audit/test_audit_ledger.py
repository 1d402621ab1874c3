"""The audit ledger accounts for every raw message and every delta, and names each gap."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import orjson

from attrition.audit.ledger import (
    AuditInput,
    GapKind,
    RawMessage,
    WarehouseView,
    audit,
    warehouse_view,
)
from attrition.contracts.events import DeadLetter, DeltaEvent, LossEvent
from attrition.contracts.wire import encode
from attrition.parse.document_parser import process_raw
from attrition.totals.totals_ledger import TotalsLedger
from report_fixtures import report_series

TOPIC = "raw.reports"


def _pipeline(
    payloads: list[tuple[bytes, bytes]],
) -> tuple[list[RawMessage], list[LossEvent], list[DeadLetter], list[DeltaEvent]]:
    """What the real stages would put on the topics for these raw messages (pure code only)."""
    raw, losses, letters, deltas = [], [], [], []
    ledgers: dict[str, TotalsLedger] = {}
    for key, payload in payloads:
        raw.append(RawMessage.of(TOPIC, key, payload))
        outcome = process_raw(payload, topic=TOPIC, key=key, today=date(2030, 1, 1))
        if outcome.dead_letter is not None:
            letters.append(outcome.dead_letter)
        for event in outcome.events:
            losses.append(event)
            ledger = ledgers.setdefault(event.totals_key, TotalsLedger.for_event(event))
            deltas.extend(ledger.apply(event))
    return raw, losses, letters, deltas


def _complete_warehouse(
    losses: list[LossEvent], letters: list[DeadLetter], deltas: list[DeltaEvent], current: set[str]
) -> WarehouseView:
    return warehouse_view(
        (e.event_id for e in losses), (d.delta_id for d in deltas), current,
        (d.dead_letter_id for d in letters),
    )  # fmt: skip


def _inputs() -> list[tuple[bytes, bytes]]:
    docs = report_series(date(2023, 1, 1), 3, id_prefix="led")
    # Every report shares one Kafka key, as the publisher sends them.
    good = [(b"reports", encode(d)) for d in docs]
    bad = [(b"unidentified:1", b"not json"), (b"x", orjson.dumps({"id": "x"}))]
    return [*good, *bad, good[0]]  # the last one is a duplicate


def _clean_case() -> AuditInput:
    raw, losses, letters, deltas = _pipeline(_inputs())
    from attrition.totals.totals_ledger import current_deltas

    current = {d.delta_id for d in current_deltas(deltas).values()}
    return AuditInput(
        raw, losses, letters, deltas, _complete_warehouse(losses, letters, deltas, current)
    )


def test_a_clean_run_has_every_message_accounted_for() -> None:
    report = audit(_clean_case())
    assert report.ok, report.lines()
    assert (report.raw_messages, report.raw_distinct_ids, report.raw_duplicates) == (6, 5, 1)
    assert (report.raw_with_events, report.raw_dead_lettered) == (3, 2)
    assert report.dead_letters_by_reason == {"not_json": 1, "invalid_document": 1}
    assert report.loss_events_by_kind == {"report": 3 * 13}
    assert report.current_deltas_on_topic == 3 * 13
    assert "no unexplained gaps" in report.lines()


def test_a_dead_letter_id_is_the_one_the_parse_stage_gives() -> None:
    outcome = process_raw(b"\xff\xfe", topic=TOPIC, key=b"k1")
    assert outcome.dead_letter is not None
    assert RawMessage.of(TOPIC, b"k1", b"\xff\xfe").dead_letter_id == (
        outcome.dead_letter.dead_letter_id
    )


def test_a_raw_message_with_no_outcome_is_a_gap() -> None:
    case = _clean_case()
    lost_source = case.loss_events[0].source_id
    losses = [e for e in case.loss_events if e.source_id != lost_source]
    letters = [d for d in case.dead_letters if d.reason.value != "not_json"]
    report = audit(AuditInput(case.raw, losses, letters, case.deltas, case.warehouse))
    gaps = {(g.kind, g.ident) for g in report.gaps}
    assert (GapKind.raw_unaccounted, lost_source) in gaps
    assert (GapKind.raw_unaccounted, "unidentified:1") in gaps
    assert not report.ok


def test_a_delta_missing_from_the_warehouse_is_a_gap() -> None:
    case = _clean_case()
    missing = case.deltas[-1].delta_id
    w = case.warehouse
    view = WarehouseView(
        w.loss_event_ids, w.delta_ids - {missing}, w.current_delta_ids - {missing},
        w.dead_letter_ids,
    )  # fmt: skip
    report = audit(AuditInput(case.raw, case.loss_events, case.dead_letters, case.deltas, view))
    assert {(g.kind, g.ident) for g in report.gaps} == {
        (GapKind.delta_missing_in_warehouse, missing)
    }


def test_one_delta_id_with_two_contents_is_a_gap_but_a_redelivered_copy_is_not() -> None:
    case = _clean_case()
    copy = case.deltas[0]
    altered = copy.model_copy(update={"total": copy.total + 1})
    redelivered = audit(
        AuditInput(
            case.raw, case.loss_events, case.dead_letters, [*case.deltas, copy], case.warehouse
        )
    )
    assert redelivered.ok
    assert redelivered.delta_messages == redelivered.delta_ids + 1
    report = audit(
        AuditInput(
            case.raw, case.loss_events, case.dead_letters, [*case.deltas, altered], case.warehouse
        )
    )
    assert [(g.kind, g.ident) for g in report.gaps] == [(GapKind.delta_conflict, copy.delta_id)]


def test_warehouse_currents_must_be_the_topic_fold() -> None:
    case = _clean_case()
    w = case.warehouse
    stale = next(iter(w.current_delta_ids))
    view = WarehouseView(
        w.loss_event_ids, w.delta_ids | {"ghost"}, (w.current_delta_ids - {stale}) | {"ghost"},
        w.dead_letter_ids,
    )  # fmt: skip
    report = audit(AuditInput(case.raw, case.loss_events, case.dead_letters, case.deltas, view))
    assert {(g.kind, g.ident) for g in report.gaps} == {
        (GapKind.warehouse_delta_not_on_topic, "ghost"),
        (GapKind.current_delta_not_current, stale),
    }


def test_loss_events_and_dead_letters_missing_from_the_warehouse_are_gaps() -> None:
    case = _clean_case()
    w = case.warehouse
    event, letter = case.loss_events[0].event_id, case.dead_letters[0].dead_letter_id
    view = WarehouseView(
        w.loss_event_ids - {event}, w.delta_ids, w.current_delta_ids, w.dead_letter_ids - {letter}
    )
    report = audit(AuditInput(case.raw, case.loss_events, case.dead_letters, case.deltas, view))
    assert {(g.kind, g.ident) for g in report.gaps} == {
        (GapKind.loss_event_missing_in_warehouse, event),
        (GapKind.dead_letter_missing_in_warehouse, letter),
    }
    assert any("UNEXPLAINED GAPS: 2" in line for line in report.lines())


def test_a_revision_is_counted_apart_from_a_duplicate() -> None:
    docs = report_series(date(2023, 1, 1), 2, id_prefix="rev")
    edited = docs[1].model_copy(update={"text": docs[1].text.replace("tanks ‒", "tanks  ‒")})
    raw, losses, letters, deltas = _pipeline(
        [(d.id.encode(), encode(d)) for d in [*docs, edited, edited]]
    )
    view = _complete_warehouse(losses, letters, deltas, set())
    report = audit(AuditInput(raw, losses, letters, deltas, view))
    assert (report.raw_distinct_ids, report.raw_revisions, report.raw_duplicates) == (2, 1, 1)


def test_the_ledger_is_pure_core() -> None:
    probe = (
        "import sys, attrition.audit.ledger\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('faust', 'aiokafka')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
