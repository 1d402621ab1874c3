"""The audit ledger: what went in, what came out, and every gap nothing explains.

Pure: it is handed what `audit.collect` read from the topics and the warehouse and decides.
A raw message is accounted for when it produced loss events, or its dead letter is on the
dead-letter topic, or it is a duplicate of a message already accounted for. Downstream, every
delta on the topic must be in the warehouse, no delta id may carry two contents, and the
warehouse's current deltas must be exactly the topic's deltas folded the way the warehouse
folds them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import orjson

from attrition.contracts.events import DeadLetter, DeltaEvent, LossEvent, stable_id
from attrition.parse.document_parser import hashlib_hex
from attrition.totals.totals_ledger import current_deltas


class GapKind(StrEnum):
    """Stable codes of the things an audit cannot explain."""

    raw_unaccounted = "raw_unaccounted"
    delta_missing_in_warehouse = "delta_missing_in_warehouse"
    delta_conflict = "delta_conflict"
    warehouse_delta_not_on_topic = "warehouse_delta_not_on_topic"
    current_delta_not_current = "current_delta_not_current"
    stale_current_delta = "stale_current_delta"
    loss_event_missing_in_warehouse = "loss_event_missing_in_warehouse"
    dead_letter_missing_in_warehouse = "dead_letter_missing_in_warehouse"


@dataclass(frozen=True)
class Gap:
    kind: GapKind
    ident: str
    detail: str


@dataclass(frozen=True)
class RawMessage:
    """One message of a raw topic, reduced to what accounting needs."""

    topic: str
    key: str | None
    digest: str
    doc_id: str | None = None
    """The document's own id when the payload is a JSON object with one: loss events name
    their document by it (the Kafka key may be shared, e.g. by every report)."""

    @classmethod
    def of(cls, topic: str, key: bytes | None, payload: bytes) -> RawMessage:
        # Decoded exactly as the parse stage decodes a key, so the dead-letter ids agree.
        key_text = key.decode("utf-8", "replace") if key is not None else None
        return cls(topic, key_text, hashlib_hex(payload), _document_id(payload))

    @property
    def ident(self) -> str:
        return self.doc_id or self.key or self.dead_letter_id

    @property
    def dead_letter_id(self) -> str:
        """The id the parse stage gives this message's dead letter, should it get one."""
        return stable_id("dead", self.topic, self.key, self.digest)


@dataclass(frozen=True)
class WarehouseView:
    loss_event_ids: frozenset[str]
    delta_ids: frozenset[str]
    current_delta_ids: frozenset[str]
    dead_letter_ids: frozenset[str]


@dataclass(frozen=True)
class AuditInput:
    raw: Sequence[RawMessage]
    loss_events: Sequence[LossEvent]
    dead_letters: Sequence[DeadLetter]
    deltas: Sequence[DeltaEvent]
    """In topic order within each key: the fold needs it."""
    warehouse: WarehouseView


@dataclass
class AuditReport:
    raw_messages: int = 0
    raw_distinct_ids: int = 0
    raw_duplicates: int = 0
    raw_revisions: int = 0
    raw_with_events: int = 0
    raw_dead_lettered: int = 0
    loss_event_messages: int = 0
    loss_event_ids: int = 0
    loss_events_by_kind: dict[str, int] = field(default_factory=dict)
    loss_events_by_claimant: dict[str, int] = field(default_factory=dict)
    loss_events_without_raw: int = 0
    dead_letter_messages: int = 0
    dead_letters_by_reason: dict[str, int] = field(default_factory=dict)
    dead_letters_without_raw: int = 0
    delta_messages: int = 0
    delta_ids: int = 0
    current_deltas_on_topic: int = 0
    warehouse_loss_events: int = 0
    warehouse_deltas: int = 0
    warehouse_current_deltas: int = 0
    warehouse_dead_letters: int = 0
    expected_current_delta_ids: frozenset[str] = frozenset()
    gaps: list[Gap] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.gaps

    def gap_counts(self) -> dict[str, int]:
        return dict(Counter(g.kind.value for g in self.gaps))

    def lines(self, max_gaps: int = 20) -> list[str]:
        """The ledger as a person reads it."""
        out = [
            f"raw in: {self.raw_messages} messages, {self.raw_distinct_ids} distinct ids, "
            f"{self.raw_duplicates} duplicates, {self.raw_revisions} revisions",
            f"  accounted: {self.raw_with_events} produced loss events, "
            f"{self.raw_dead_lettered} dead-lettered",
            f"loss events out: {self.loss_event_ids} distinct ids "
            f"({self.loss_event_messages} with copies), by kind {_fmt(self.loss_events_by_kind)}, "
            f"by claimant {_fmt(self.loss_events_by_claimant)}, "
            f"{self.loss_events_without_raw} from no raw message (backfill)",
            f"dead letters: {sum(self.dead_letters_by_reason.values())} distinct "
            f"({self.dead_letter_messages} messages), by reason "
            f"{_fmt(self.dead_letters_by_reason)}",
            f"deltas on topic: {self.delta_ids} distinct ids ({self.delta_messages} with copies), "
            f"{self.current_deltas_on_topic} current after folding",
            f"warehouse: {self.warehouse_loss_events} loss events, {self.warehouse_deltas} "
            f"deltas ({self.warehouse_current_deltas} current), {self.warehouse_dead_letters} "
            "dead letters",
        ]
        if self.ok:
            out.append("no unexplained gaps")
            return out
        out.append(f"UNEXPLAINED GAPS: {len(self.gaps)} {_fmt(self.gap_counts())}")
        out.extend(f"  {g.kind.value} {g.ident}: {g.detail}" for g in self.gaps[:max_gaps])
        if len(self.gaps) > max_gaps:
            out.append(f"  … and {len(self.gaps) - max_gaps} more")
        return out


def _document_id(payload: bytes) -> str | None:
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    doc_id = data.get("id") if isinstance(data, dict) else None
    return doc_id if isinstance(doc_id, str) and doc_id else None


def _fmt(counts: dict[str, int]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) + "}"


def _account_raw(data: AuditInput, report: AuditReport) -> None:
    sources = {e.source_id for e in data.loss_events}
    letters = {d.dead_letter_id for d in data.dead_letters}
    seen: set[tuple[str, str | None, str]] = set()
    digests_by_id: dict[tuple[str, str], set[str]] = {}
    for message in data.raw:
        report.raw_messages += 1
        fingerprint = (message.topic, message.key, message.digest)
        if fingerprint in seen:
            # The same bytes again: its outcome is the first copy's, accounted below.
            report.raw_duplicates += 1
            continue
        seen.add(fingerprint)
        versions = digests_by_id.setdefault((message.topic, message.ident), set())
        if versions:
            report.raw_revisions += 1
        versions.add(message.digest)
        if message.dead_letter_id in letters:
            report.raw_dead_lettered += 1
        elif message.doc_id is not None and message.doc_id in sources:
            report.raw_with_events += 1
        else:
            report.gaps.append(
                Gap(
                    GapKind.raw_unaccounted,
                    message.ident,
                    f"on {message.topic}: neither loss events nor a dead letter",
                )
            )
    report.raw_distinct_ids = len(digests_by_id)
    raw_keys = {m.doc_id for m in data.raw}
    raw_letter_ids = {m.dead_letter_id for m in data.raw}
    report.loss_events_without_raw = len(
        {e.event_id for e in data.loss_events if e.source_id not in raw_keys}
    )
    report.dead_letters_without_raw = len(letters - raw_letter_ids)


def _account_loss_events(data: AuditInput, report: AuditReport) -> None:
    distinct = {e.event_id: e for e in data.loss_events}
    report.loss_event_messages = len(data.loss_events)
    report.loss_event_ids = len(distinct)
    report.loss_events_by_kind = dict(Counter(e.source_kind.value for e in distinct.values()))
    report.loss_events_by_claimant = dict(Counter(e.claimant.value for e in distinct.values()))
    for event_id in sorted(distinct.keys() - data.warehouse.loss_event_ids):
        report.gaps.append(
            Gap(GapKind.loss_event_missing_in_warehouse, event_id, "on the topic only")
        )


def _account_dead_letters(data: AuditInput, report: AuditReport) -> None:
    distinct = {d.dead_letter_id: d for d in data.dead_letters}
    report.dead_letter_messages = len(data.dead_letters)
    report.dead_letters_by_reason = dict(Counter(d.reason.value for d in distinct.values()))
    for letter_id in sorted(distinct.keys() - data.warehouse.dead_letter_ids):
        report.gaps.append(
            Gap(GapKind.dead_letter_missing_in_warehouse, letter_id, "on the topic only")
        )


def _account_deltas(data: AuditInput, report: AuditReport) -> None:
    first: dict[str, DeltaEvent] = {}
    conflicting: set[str] = set()
    for delta in data.deltas:
        held = first.setdefault(delta.delta_id, delta)
        if held != delta and delta.delta_id not in conflicting:
            conflicting.add(delta.delta_id)
            report.gaps.append(
                Gap(GapKind.delta_conflict, delta.delta_id, "one id, two different contents")
            )
    report.delta_messages = len(data.deltas)
    report.delta_ids = len(first)
    expected = frozenset(d.delta_id for d in current_deltas(data.deltas).values())
    report.expected_current_delta_ids = expected
    report.current_deltas_on_topic = len(expected)
    stored, current = data.warehouse.delta_ids, data.warehouse.current_delta_ids
    for delta_id in sorted(first.keys() - stored):
        report.gaps.append(Gap(GapKind.delta_missing_in_warehouse, delta_id, "on the topic only"))
    for delta_id in sorted(current - first.keys()):
        report.gaps.append(
            Gap(GapKind.warehouse_delta_not_on_topic, delta_id, "current in the warehouse only")
        )
    for delta_id in sorted((expected & stored) - current):
        report.gaps.append(
            Gap(
                GapKind.current_delta_not_current,
                delta_id,
                "current on the topic, superseded in the warehouse",
            )
        )
    for delta_id in sorted((current & first.keys()) - expected):
        report.gaps.append(
            Gap(
                GapKind.stale_current_delta,
                delta_id,
                "superseded on the topic, still current in the warehouse",
            )
        )


def audit(data: AuditInput) -> AuditReport:
    report = AuditReport(
        warehouse_loss_events=len(data.warehouse.loss_event_ids),
        warehouse_deltas=len(data.warehouse.delta_ids),
        warehouse_current_deltas=len(data.warehouse.current_delta_ids),
        warehouse_dead_letters=len(data.warehouse.dead_letter_ids),
    )
    _account_raw(data, report)
    _account_loss_events(data, report)
    _account_dead_letters(data, report)
    _account_deltas(data, report)
    return report


def warehouse_view(
    loss_event_ids: Iterable[str],
    delta_ids: Iterable[str],
    current_delta_ids: Iterable[str],
    dead_letter_ids: Iterable[str],
) -> WarehouseView:
    return WarehouseView(
        frozenset(loss_event_ids),
        frozenset(delta_ids),
        frozenset(current_delta_ids),
        frozenset(dead_letter_ids),
    )
