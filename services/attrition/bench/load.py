"""The load every broker measurement shares: General Staff reports rendered in the official
English wording (the shape of `samples/reports.jsonl`), one per day, ending yesterday.

Generated rather than read from the corpus so that any `--events` count gets a gap-free daily
series per key: each loss event then moves its total by one day and yields exactly one delta,
which is what lets a stage's end be detected by counting its output. Each report lists the
categories a real report of its date lists (`submarines` from September 2023, `ground robotic
systems` from May 2026), so the parser's checks flag none of them, as they flag no real one."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Final

from attrition.contracts.events import LossEvent, RawDocument
from attrition.contracts.vocabulary import DocumentKind
from attrition.parse.document_parser import parse_document

# The day the General Staff's list reached the shape of its later reports: from here on, a
# generated report lists what a real one of its date lists, so the parser flags none (a load
# larger than the real history reaches further back; those reports list the same 13 lines).
FIRST_DAY: Final = date(2022, 5, 10)

# (label, first total, daily increase, listed from): the wording the report parser reads, and
# the day the General Staff's report began to list the category (its label table's dates).
LINES: Final[tuple[tuple[str, int, int, date], ...]] = (
    ("personnel ‒ about {total}{delta} persons", 110_000, 650, FIRST_DAY),
    ("tanks ‒ {total}{delta}", 3000, 7, FIRST_DAY),
    ("APV ‒ {total}{delta}", 6000, 9, FIRST_DAY),
    ("artillery systems ‒ {total}{delta}", 2000, 6, FIRST_DAY),
    ("MLRS ‒ {total}{delta}", 420, 1, FIRST_DAY),
    ("Anti-aircraft warfare systems ‒ {total}{delta}", 210, 1, FIRST_DAY),
    ("aircraft ‒ {total}{delta}", 280, 1, FIRST_DAY),
    ("helicopters ‒ {total}{delta}", 270, 1, FIRST_DAY),
    ("UAV operational-tactical level ‒ {total}{delta}", 1800, 8, FIRST_DAY),
    ("cruise missiles ‒ {total}{delta}", 720, 2, FIRST_DAY),
    ("warships / boats ‒ {total}{delta}", 16, 1, FIRST_DAY),
    ("submarines ‒ {total}{delta}", 1, 0, date(2023, 9, 14)),
    ("vehicles and fuel tanks ‒ {total}{delta}", 4700, 12, FIRST_DAY),
    ("special equipment ‒ {total}{delta}", 180, 1, FIRST_DAY),
    ("ground robotic systems ‒ {total}{delta}", 40, 1, date(2026, 5, 3)),
)


def lines_on(day: date) -> list[int]:
    """The lines (indexes into LINES) a report of `day` lists: 13 to 15, as the real ones."""
    return [i for i, line in enumerate(LINES) if line[3] <= day]


def _figures(day: date) -> list[int]:
    # Figures follow from the date alone, so series of adjacent days join up. The daily change
    # cycles through daily, daily + 1, daily + 2: varied, never a decrease (a real history has
    # a handful; a load with one every third day would measure alerting).
    day_index = (day - FIRST_DAY).days
    cycles, rest = divmod(day_index, 3)
    wobble = 3 * cycles + (0, 1, 3)[rest]
    return [first + day_index * daily + wobble for _, first, daily, _ in LINES]


def render(as_of: date) -> str:
    now = _figures(as_of)
    before = _figures(as_of - timedelta(days=1))
    lines = [
        LINES[i][0].format(total=now[i], delta=f" (+{now[i] - before[i]})") for i in lines_on(as_of)
    ]
    return (
        f"The total combat losses of the enemy from 24.02.22 to {as_of:%d.%m.%y} were "
        "approximately:\n\n" + ",\n".join(lines) + ".\n\nThe data are being updated."
    )


def report_series(days: int, *, id_prefix: str, last: date | None = None) -> list[RawDocument]:
    """`days` daily reports ending on `last`, by default yesterday (so none lies in the
    future)."""
    last = last or date.today() - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    return [
        RawDocument(
            id=f"{id_prefix}-{(first + timedelta(days=i)).isoformat()}",
            kind=DocumentKind.report,
            published=first + timedelta(days=i),
            lang="en",
            text=render(first + timedelta(days=i)),
        )
        for i in range(days)
    ]


def events_in(documents: Iterable[RawDocument]) -> int:
    """How many loss events (and so deltas) the parse stage makes of these reports."""
    return sum(len(lines_on(document.published)) for document in documents)


def series_holding(events: int, *, id_prefix: str, last: date | None = None) -> list[RawDocument]:
    """The shortest daily series ending on `last` (default yesterday) that holds at least
    `events` loss events."""
    day = last or date.today() - timedelta(days=1)
    days = held = 0
    while held < events:
        held += len(lines_on(day - timedelta(days=days)))
        days += 1
    return report_series(max(days, 1), id_prefix=id_prefix, last=day)


def loss_events(documents: list[RawDocument]) -> Iterator[LossEvent]:
    """The loss events the parse stage makes of these documents, in document order."""
    for document in documents:
        events, _ = parse_document(document)
        yield from events
