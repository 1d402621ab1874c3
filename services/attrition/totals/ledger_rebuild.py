"""A key's totals ledger rebuilt from its loss events, and the deltas that brings back.

A ledger's state is every figure each source stated, so feeding it a key's loss events in any
order ends in the same state (tests/unit/totals: hypothesis). A warehouse keeps every loss
event, so a ledger that was lost or damaged can be made again from it (`attrition state
rebuild`).

The warehouse may hold loss events the totals stage never applied: the sinks and the totals
stage read the same messages, and the stage that failed did not get to them. The next worker
reads those messages again, finds their figures already in the rebuilt ledger, and sends no
delta for them. So the rebuild sends the deltas the ledger yields that the warehouse does not
hold as current: after it, as after every `apply`, the delta last emitted for each day is the
one the state yields (totals_ledger.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from attrition.contracts.events import DeltaEvent, LossEvent
from attrition.contracts.vocabulary import Category, Claimant, DeltaFlag, DocumentKind, Subject
from attrition.totals.totals_ledger import TotalsLedger

#: A flag that records how a delta arrived, not what it says: not compared.
ARRIVAL_FLAGS = frozenset({DeltaFlag.late, DeltaFlag.correction})


@dataclass(frozen=True)
class HeldDelta:
    """What a warehouse holds of a current delta, as far as a ledger decides it."""

    delta_id: str
    flags: frozenset[DeltaFlag]  # without ARRIVAL_FLAGS
    source_id: str
    event_id: str


#: The current deltas a warehouse holds for one key, by (source kind, day).
Held = Mapping[tuple[DocumentKind, date], list[HeldDelta]]


def held_delta(
    delta_id: str, flags: Iterable[DeltaFlag], source_id: str, event_id: str
) -> HeldDelta:
    return HeldDelta(delta_id, frozenset(flags) - ARRIVAL_FLAGS, source_id, event_id)


def rebuilt_ledger(
    claimant: Claimant, subject: Subject, category: Category, events: Iterable[LossEvent]
) -> TotalsLedger:
    """The ledger of a key fed every one of its loss events."""
    ledger = TotalsLedger(claimant, subject, category)
    for event in events:
        ledger.apply(event)
    return ledger


def deltas_missing(ledger: TotalsLedger, held: Held) -> list[DeltaEvent]:
    """The deltas the ledger yields that the warehouse does not hold as current, oldest day
    first per source kind, as the totals stage would send them: a delta id the warehouse holds
    with other flags or another source again as it is (the upsert replaces the row), a new
    delta id replacing the day's current one with `correction`."""
    missing: list[DeltaEvent] = []
    for kind in DocumentKind:
        for delta in ledger.current_deltas_of(kind):
            rows = held.get((kind, delta.as_of), [])
            wanted = held_delta(delta.delta_id, delta.flags, delta.source_id, delta.event_id)
            if wanted in rows:
                continue
            if not rows or any(r.delta_id == delta.delta_id for r in rows):
                missing.append(delta)
                continue
            replaced = min(r.delta_id for r in rows)
            flags = [*delta.flags, DeltaFlag.correction]
            missing.append(delta.model_copy(update={"replaces": replaced, "flags": flags}))
    return missing
