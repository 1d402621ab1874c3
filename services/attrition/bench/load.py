"""The load every broker measurement shares: General Staff reports rendered in the official
English wording (the shape of `samples/reports.jsonl`), one per day, ending yesterday.

Generated rather than read from the corpus so that any `--events` count gets a gap-free daily
series per key: each loss event then moves its total by one day and yields exactly one delta,
which is what lets a stage's end be detected by counting its output."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Final

from attrition.contracts.events import LossEvent, RawDocument
from attrition.contracts.vocabulary import DocumentKind
from attrition.parse.document_parser import parse_document

# (label, first total, daily increase): the wording the report parser reads.
LINES: Final[tuple[tuple[str, int, int], ...]] = (
    ("personnel ‒ about {total}{delta} persons", 110_000, 650),
    ("tanks ‒ {total}{delta}", 3000, 7),
    ("APV ‒ {total}{delta}", 6000, 9),
    ("artillery systems ‒ {total}{delta}", 2000, 6),
    ("MLRS ‒ {total}{delta}", 420, 1),
    ("Anti-aircraft warfare systems ‒ {total}{delta}", 210, 1),
    ("aircraft ‒ {total}{delta}", 280, 1),
    ("helicopters ‒ {total}{delta}", 270, 1),
    ("UAV operational-tactical level ‒ {total}{delta}", 1800, 8),
    ("cruise missiles ‒ {total}{delta}", 720, 2),
    ("warships / boats ‒ {total}{delta}", 16, 1),
    ("vehicles and fuel tanks ‒ {total}{delta}", 4700, 12),
    ("special equipment ‒ {total}{delta}", 180, 1),
)
EVENTS_PER_REPORT: Final = len(LINES)


def _figures(day_index: int) -> list[int]:
    # The daily change cycles through daily, daily + 1, daily + 2: varied, never a decrease
    # (a real history has a handful; a load with one every third day would measure alerting).
    cycles, rest = divmod(day_index, 3)
    wobble = 3 * cycles + (0, 1, 3)[rest]
    return [first + day_index * daily + wobble for _, first, daily in LINES]


def render(as_of: date, day_index: int) -> str:
    now = _figures(day_index)
    before = _figures(day_index - 1) if day_index else None
    lines = []
    for i, (template, _, _) in enumerate(LINES):
        delta = f" (+{now[i] - before[i]})" if before else ""
        lines.append(template.format(total=now[i], delta=delta))
    return (
        f"The total combat losses of the enemy from 24.02.22 to {as_of:%d.%m.%y} were "
        "approximately:\n\n" + ",\n".join(lines) + ".\n\nThe data are being updated."
    )


def report_series(days: int, *, id_prefix: str, today: date | None = None) -> list[RawDocument]:
    """`days` daily reports ending yesterday (so none lies in the future)."""
    last = (today or date.today()) - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    return [
        RawDocument(
            id=f"{id_prefix}-{(first + timedelta(days=i)).isoformat()}",
            kind=DocumentKind.report,
            published=first + timedelta(days=i),
            lang="en",
            text=render(first + timedelta(days=i), i),
        )
        for i in range(days)
    ]


def reports_for_events(events: int, *, id_prefix: str) -> list[RawDocument]:
    return report_series(max(1, -(-events // EVENTS_PER_REPORT)), id_prefix=id_prefix)


def loss_events(documents: list[RawDocument]) -> Iterator[LossEvent]:
    """The loss events the parse stage makes of these documents, in document order."""
    for document in documents:
        events, _ = parse_document(document)
        yield from events
