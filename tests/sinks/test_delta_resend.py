"""A delta id re-sent without `replaces` (its source or flags moved, its content did not)
keeps the link it was first sent with: the delta it replaced stays superseded."""

from __future__ import annotations

from datetime import date

import pytest

from attrition.contracts.events import DeltaEvent
from attrition.contracts.vocabulary import Category, Claimant, DeltaFlag, DocumentKind, Subject
from attrition.sinks.warehouse import WriteBatch, open_warehouse


def _delta(delta_id: str, previous: date, replaces: str | None, source: str) -> DeltaEvent:
    return DeltaEvent(
        delta_id=delta_id,
        claimant=Claimant.ua_general_staff,
        subject=Subject.russia,
        category=Category.tanks,
        source_kind=DocumentKind.report,
        as_of=date(2022, 7, 11),
        total=109,
        previous_as_of=previous,
        previous_total=107,
        change=2,
        days=(date(2022, 7, 11) - previous).days,
        replaces=replaces,
        flags=[DeltaFlag.correction] if replaces else [],
        source_id=source,
        event_id="e-" + source,
    )


GAP = _delta("gap", date(2022, 7, 7), None, "aggregator")
CORRECTED = _delta("corrected", date(2022, 7, 8), "gap", "aggregator")
RESENT = _delta("corrected", date(2022, 7, 8), None, "official")


@pytest.mark.parametrize("together", [True, False])
async def test_resent_delta_keeps_its_replaces_link(warehouse_url: str, together: bool) -> None:
    async with open_warehouse(warehouse_url) as warehouse:
        if together:
            await warehouse.write(WriteBatch(deltas=[GAP, CORRECTED, RESENT]))
        else:
            for delta in (GAP, CORRECTED, RESENT):
                await warehouse.write(WriteBatch(deltas=[delta]))
        assert await warehouse.delta_ids(current_only=True) == {"corrected"}
        rows = {r["delta_id"]: r for r in await warehouse.dump("deltas")}
    assert rows["corrected"]["replaces"] == "gap"
    assert rows["corrected"]["source_id"] == "official"
    assert rows["gap"]["superseded_by"] == "corrected"
