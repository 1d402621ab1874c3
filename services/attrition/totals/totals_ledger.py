"""The running totals of one key (`claimant/subject/category`) and the deltas between them.

The Faust totals agent keeps one ledger per key in a table: `TotalsLedger.from_bytes`, then
`apply` each LossEvent of that key, store `to_bytes()` back, and send the returned deltas.

Why it survives a misbehaving world:

* The state holds every figure each source stated per day (see `ledger_state`), and a day's
  total is *chosen* from them (official first, then lowest source_id), so duplicates, late
  bulletins and shuffled replays end in the same totals.
* `delta_id` is content-addressed: the same final state gives the same ids whatever the
  arrival order, and the warehouse folds versions with `replaces` (see `current_deltas`).
* After every `apply`, the delta last emitted for each day equals the one the state yields
  now: a figure for day d can change only the deltas of d and of the next day with a total,
  and both are compared before and after. That invariant is why the state needs no record
  of past emissions, and why a restored ledger continues exactly where it stopped.
* A new delta_id for a day carries `correction` and `replaces` the old one. A change that
  leaves the delta_id alone (another source now disagrees, a lower source id states the same
  figure) re-sends that delta_id with fresh flags and source; the warehouse upsert overwrites.
  `late` and `correction` record arrival history and are not part of a delta's content.

Complexity, n days with a total in the key's book: `apply` is O(log n) for the bisects plus
O(k) for the k sources stating the touched days; the next day in order appends in O(1)
amortised. An insertion in the middle (a late day) is an O(n) memmove of ordinals, cheap in
practice. `to_bytes`/`from_bytes`, `current_deltas_of` are O(n).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from hashlib import blake2b
from typing import NamedTuple

from attrition.contracts import trusted
from attrition.contracts.events import DeltaEvent, LossEvent
from attrition.contracts.vocabulary import (
    Category,
    Claimant,
    DeltaFlag,
    DocumentKind,
    Measure,
    Subject,
)
from attrition.totals.ledger_state import (
    Book,
    Figure,
    LedgerState,
    chosen,
    merge_figure,
    state_from_record,
    state_record,
)

# A key's running total counts casualties; a "killed" or "wounded" figure under the same key
# would otherwise stand beside it as a disagreeing total for the same day.
_TOTAL_MEASURES = frozenset({None, Measure.casualties})

DeltaSlot = tuple[str, DocumentKind, date]
"""(totals_key, source_kind, as_of): the place of one day's delta in the warehouse."""


@dataclass(frozen=True, slots=True)
class CurrentTotal:
    """The latest known total of one key and source kind, for the compacted topic and views."""

    totals_key: str
    source_kind: DocumentKind
    as_of: date
    total: int
    delta_id: str


class _DayDelta(NamedTuple):
    """A day's delta as the state yields it, without the flags that record arrival history."""

    delta_id: str
    as_of: date
    total: int
    previous_as_of: date | None
    previous_total: int | None
    reported_delta: int | None
    disagreement: bool
    source_id: str
    event_id: str


def _reported_delta(day: dict[str, Figure], picked: Figure) -> int | None:
    if picked.reported_delta is not None:
        return picked.reported_delta
    # Fall back on the best-ranked other statement of the day's change, figures that carry a
    # total before delta-only ones, so the choice does not depend on arrival order either.
    best: tuple[bool, bool, str] | None = None
    value: int | None = None
    for source_id, fig in day.items():
        if fig.reported_delta is None:
            continue
        rank = (fig.total is None, not fig.official, source_id)
        if best is None or rank < best:
            best, value = rank, fig.reported_delta
    return value


def _disagree(day: dict[str, Figure]) -> bool:
    seen: int | None = None
    for fig in day.values():
        if fig.total is None:
            continue
        if seen is None:
            seen = fig.total
        elif fig.total != seen:
            return True
    return False


def _content_flags(view: _DayDelta) -> list[DeltaFlag]:
    flags: list[DeltaFlag] = []
    if view.previous_as_of is None or view.previous_total is None:
        return [DeltaFlag.source_disagreement] if view.disagreement else []
    change = view.total - view.previous_total
    days = (view.as_of - view.previous_as_of).days
    if view.reported_delta is not None and days == 1 and view.reported_delta != change:
        flags.append(DeltaFlag.reported_delta_mismatch)
    if change < 0:
        flags.append(DeltaFlag.decrease)
    if days > 1:
        flags.append(DeltaFlag.gap)
    if view.disagreement:
        flags.append(DeltaFlag.source_disagreement)
    return flags


class TotalsLedger:
    """All totals of one key, per source kind; articles and reports never touch each other."""

    __slots__ = ("_id_heads", "_id_prefix", "_state", "totals_key")

    def __init__(self, claimant: Claimant, subject: Subject, category: Category) -> None:
        self._adopt(LedgerState(claimant, subject, category))

    def _adopt(self, state: LedgerState) -> None:
        self._state = state
        # Enum `.value` lookups dominated a profile of `apply`; the key never changes.
        self._id_prefix = (state.claimant.value, state.subject.value, state.category.value)
        self.totals_key = "/".join(self._id_prefix)
        self._id_heads: dict[DocumentKind, str] = {}

    @classmethod
    def for_event(cls, event: LossEvent) -> TotalsLedger:
        return cls(event.claimant, event.subject, event.category)

    # -- state ----------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The ledger as its table entry (see `ledger_state.state_record`)."""
        return state_record(self._state)

    @classmethod
    def from_bytes(cls, raw: bytes) -> TotalsLedger:
        ledger = cls.__new__(cls)
        ledger._adopt(state_from_record(raw))
        return ledger

    # -- input ----------------------------------------------------------------------------

    def apply(self, event: LossEvent) -> list[DeltaEvent]:
        """Record one figure; return the deltas whose content it changed (0, 1 or 2)."""
        s = self._state
        if (event.claimant, event.subject, event.category) != (s.claimant, s.subject, s.category):
            raise ValueError(f"event for {event.totals_key} sent to ledger {self.totals_key}")
        if event.measure not in _TOTAL_MEASURES:
            return []
        if event.total is None and event.delta is None:
            return []
        kind = event.source_kind
        book = s.book(kind)
        ordinal = event.as_of.toordinal()
        day = book.day(ordinal)
        old = day.get(event.source_id)
        merged = merge_figure(old, Figure(event.total, event.delta, event.official, event.event_id))
        if merged == old:
            return []

        following = book.next_date(ordinal)
        late = following is not None
        touched = [ordinal] if following is None else [ordinal, following]
        # A day with no figure yet has no delta to compare with (the usual case: the next day).
        before = [self._view(book, kind, ordinal) if day else None]
        if following is not None:
            before.append(self._view(book, kind, following))
        book.record(ordinal, event.source_id, merged)

        out: list[DeltaEvent] = []
        for d, was in zip(touched, before, strict=True):
            now = self._view(book, kind, d)
            if now is None or now == was:
                continue
            flags = _content_flags(now)
            replaces: str | None = None
            if was is not None and was.delta_id != now.delta_id:
                replaces = was.delta_id
                flags.append(DeltaFlag.correction)
            if late and d == ordinal:
                flags.append(DeltaFlag.late)
            out.append(self._event(kind, now, flags, replaces))
        return out

    # -- output ---------------------------------------------------------------------------

    def current(self, kind: DocumentKind = DocumentKind.report) -> DeltaEvent | None:
        """The delta of the latest day, as the state yields it (no arrival-history flags)."""
        book = self._state.books.get(kind)
        latest = None if book is None else book.latest()
        if book is None or latest is None:
            return None
        view = self._view(book, kind, latest)
        return None if view is None else self._event(kind, view, _content_flags(view), None)

    def current_total(self, kind: DocumentKind = DocumentKind.report) -> CurrentTotal | None:
        delta = self.current(kind)
        if delta is None:
            return None
        return CurrentTotal(self.totals_key, kind, delta.as_of, delta.total, delta.delta_id)

    def current_deltas_of(self, kind: DocumentKind = DocumentKind.report) -> list[DeltaEvent]:
        """Every day's delta as the state yields it now, oldest first: what the warehouse
        should hold once it has folded all deltas this ledger emitted (for audits)."""
        book = self._state.books.get(kind)
        if book is None:
            return []
        out: list[DeltaEvent] = []
        for d in book.dates:
            view = self._view(book, kind, d)
            if view is not None:
                out.append(self._event(kind, view, _content_flags(view), None))
        return out

    # -- internals ------------------------------------------------------------------------

    def _view(self, book: Book, kind: DocumentKind, ordinal: int) -> _DayDelta | None:
        day = book.day(ordinal)
        best = chosen(day)
        if best is None:
            return None
        source_id, fig = best
        assert fig.total is not None  # `chosen` only returns figures with a total
        previous_as_of: date | None = None
        previous_total: int | None = None
        prev = book.previous_date(ordinal)
        if prev is not None:
            prev_chosen = chosen(book.day(prev))
            if prev_chosen is not None:
                previous_as_of = date.fromordinal(prev)
                previous_total = prev_chosen[1].total
        as_of = date.fromordinal(ordinal)
        reported = _reported_delta(day, fig)
        head = self._id_heads.get(kind)
        if head is None:
            head = self._id_heads[kind] = delta_id_head(*self._id_prefix, kind.value)
        delta_id = delta_id_of(head, as_of, previous_as_of, previous_total, fig.total, reported)
        return _DayDelta(
            delta_id,
            as_of,
            fig.total,
            previous_as_of,
            previous_total,
            reported,
            _disagree(day),
            source_id,
            fig.event_id,
        )

    def _event(
        self, kind: DocumentKind, view: _DayDelta, flags: list[DeltaFlag], replaces: str | None
    ) -> DeltaEvent:
        change: int | None = None
        days: int | None = None
        if view.previous_as_of is not None and view.previous_total is not None:
            change = view.total - view.previous_total
            days = (view.as_of - view.previous_as_of).days
        s = self._state
        # Every value is the ledger's own, from validated figures: no second validation.
        return trusted.delta(
            {
                "delta_id": view.delta_id,
                "claimant": s.claimant,
                "subject": s.subject,
                "category": s.category,
                "source_kind": kind,
                "as_of": view.as_of,
                "total": view.total,
                "previous_as_of": view.previous_as_of,
                "previous_total": view.previous_total,
                "change": change,
                "reported_delta": view.reported_delta,
                "days": days,
                "flags": flags,
                "replaces": replaces,
                "source_id": view.source_id,
                "event_id": view.event_id,
            }
        )


def delta_id_head(claimant: str, subject: str, category: str, source_kind: str) -> str:
    """The part of a key's delta ids that never changes (see `delta_id_of`)."""
    return "\x1f".join((claimant, subject, category, source_kind, ""))


def delta_id_of(
    head: str,
    as_of: date,
    previous_as_of: date | None,
    previous_total: int | None,
    total: int,
    reported_delta: int | None,
) -> str:
    """`stable_id(claimant, subject, category, source_kind, as_of, previous_as_of,
    previous_total, total, reported_delta)`, the delta's content address, formatted in one
    f-string: it is computed for every loss event, and the generic join took a third of
    `apply` (tests/unit/totals/test_delta_ids.py holds the two equal)."""
    joined = (
        f"{head}{as_of.isoformat()}\x1f"
        f"{'' if previous_as_of is None else previous_as_of.isoformat()}\x1f"
        f"{'' if previous_total is None else previous_total}\x1f{total}\x1f"
        f"{'' if reported_delta is None else reported_delta}"
    )
    return blake2b(joined.encode(), digest_size=16).hexdigest()


def delta_slot(delta: DeltaEvent) -> DeltaSlot:
    key = f"{delta.claimant.value}/{delta.subject.value}/{delta.category.value}"
    return (key, delta.source_kind, delta.as_of)


def current_deltas(deltas: Iterable[DeltaEvent]) -> dict[DeltaSlot, DeltaEvent]:
    """Fold a delta stream the way the warehouse does: rows are upserted on delta_id, and a
    row is superseded once a later delta `replaces` it. A later restatement of a superseded
    id revives it (a revision that was reverted). Should a slot still hold two live rows
    (a replay after lost state re-sends a first delta without `replaces`), the later one wins.
    """
    rows: dict[str, tuple[int, DeltaEvent]] = {}
    superseded: set[str] = set()
    for position, delta in enumerate(deltas):
        rows[delta.delta_id] = (position, delta)
        superseded.discard(delta.delta_id)
        if delta.replaces is not None and delta.replaces != delta.delta_id:
            superseded.add(delta.replaces)
    live: dict[DeltaSlot, tuple[int, DeltaEvent]] = {}
    for delta_id, (position, delta) in rows.items():
        if delta_id in superseded:
            continue
        slot = delta_slot(delta)
        held = live.get(slot)
        if held is None or held[0] < position:
            live[slot] = (position, delta)
    return {slot: delta for slot, (_, delta) in live.items()}
