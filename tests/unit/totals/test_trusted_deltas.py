"""The ledger builds its deltas without validating them again: they must be exactly what
validation would build."""

from __future__ import annotations

import random

import orjson

from attrition.bench.load import loss_events, series_holding
from attrition.contracts.events import DeltaEvent
from attrition.totals.totals_ledger import TotalsLedger


def test_ledger_deltas_equal_validated_ones_and_survive_json() -> None:
    events = list(loss_events(series_holding(13 * 40, id_prefix="trusted")))
    rng = random.Random(5)
    rng.shuffle(events)  # out of order: corrections, late days, replaces links
    ledgers: dict[str, TotalsLedger] = {}
    deltas = [
        d
        for e in events + events[:50]
        for d in ledgers.setdefault(e.totals_key, TotalsLedger.for_event(e)).apply(e)
    ]
    assert any(d.replaces for d in deltas) and any(d.change is None for d in deltas)
    for delta in deltas:
        assert DeltaEvent.model_validate(delta.model_dump()) == delta
        assert DeltaEvent.model_validate_json(orjson.dumps(delta.model_dump(mode="json"))) == delta
        assert delta.model_fields_set == set(DeltaEvent.model_fields)


def test_a_copy_with_changes_leaves_the_deltas_it_came_from_alone() -> None:
    # Deltas built here share one fields-set: a copy must get its own.
    events = list(loss_events(series_holding(13 * 2, id_prefix="shared")))
    first, second = (d for e in events[:2] for d in TotalsLedger.for_event(e).apply(e))
    copied = first.model_copy(update={"replaces": "x"})
    assert copied.replaces == "x" and first.replaces is None
    copied.__pydantic_fields_set__.add("not a field")
    assert first.model_fields_set == second.model_fields_set == set(DeltaEvent.model_fields)
