"""The serialisable state behind a totals ledger: every figure each source stated, per day.

The state keeps figures, not a running number, so the totals it yields depend only on what
was stated, never on the order it arrived in. Days are kept as proleptic ordinals and a
sorted list of the days that carry a total is maintained beside the figures, so finding the
neighbours of a day is a bisect (O(log n)) and appending the next day in order is O(1)
amortised.

Wire format (orjson, version 1)::

    {"v": 1, "key": [claimant, subject, category],
     "books": {"report": [[ordinal, source_id, total, delta, official, event_id], ...], ...}}

one flat row per (day, source): ~70 bytes plus the source id, with `official` as 0/1 and the
day as an integer ordinal rather than an ISO string; `event_id` is empty but for the figure the
day's total is taken from (`_encode_stale_days` says why).

A table entry holds that JSON in frames (`state_record`): each block of `BLOCK_DAYS` days
zlib-compressed on its own, the bytes between blocks as they are.
"""

from __future__ import annotations

import struct
import zlib
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson

from attrition.contracts.vocabulary import Category, Claimant, DocumentKind, Subject

FORMAT_VERSION = 1

#: Days per compressed block of a record. Blocks compress as well as the whole (the random
#: event ids dominate): 102 KB for 3,400 days of reports in blocks of 64 days, 105 KB whole.
BLOCK_DAYS = 64
# The first byte of a framed record: a plain JSON one starts with "{", a zlib stream with 0x78.
_FRAMED = b"\x00"
_FRAME = struct.Struct(">BI")  # kind, length
_RAW, _ZLIB = 0, 1


class Figure(NamedTuple):
    """What one source stated about one day."""

    total: int | None
    reported_delta: int | None
    official: bool
    event_id: str


def merge_figure(old: Figure | None, new: Figure) -> Figure:
    """The figure a source stands by after stating `new` on top of `old` for the same day.

    A delta-only statement never erases a total the same source already gave; it only fills a
    missing delta. Both directions give the same result, so a document that states the total
    and the delta in separate lines converges whatever order the lines arrive in. A second
    total from the same source is a restatement by that document and replaces the first.
    """
    if old is None:
        return new
    if new.total is None:
        if old.total is None:
            return new
        if old.reported_delta is None and new.reported_delta is not None:
            return old._replace(reported_delta=new.reported_delta)
        return old
    if new.reported_delta is None and old.reported_delta is not None:
        return new._replace(reported_delta=old.reported_delta)
    return new


def chosen(day: dict[str, Figure]) -> tuple[str, Figure] | None:
    """The figure a day's total is taken from, with its source: among those with a total,
    official first, then the lowest source id. None if no figure has a total."""
    best: tuple[str, Figure] | None = None
    for source_id, fig in day.items():
        if fig.total is None:
            continue
        if best is None or (not fig.official, source_id) < (not best[1].official, best[0]):
            best = (source_id, fig)
    return best


@dataclass(slots=True)
class Book:
    """All figures of one source kind (reports or articles) for one totals key."""

    figures: dict[int, dict[str, Figure]] = field(default_factory=dict)
    # Ordinals of the days that have at least one figure with a total, ascending.
    dates: list[int] = field(default_factory=list)
    # Each day's rows as encoded last time: the state is written after every batch, and
    # re-encoding 1,500 unchanged days took a millisecond a key.
    encoded: dict[int, bytes] = field(default_factory=dict, compare=False, repr=False)
    stale: set[int] = field(default_factory=set, compare=False, repr=False)
    # Each block's rows as compressed last time (`state_record`), by ordinal // BLOCK_DAYS.
    compressed: dict[int, bytes] = field(default_factory=dict, compare=False, repr=False)

    def day(self, ordinal: int) -> dict[str, Figure]:
        return self.figures.get(ordinal, {})

    def record(self, ordinal: int, source_id: str, figure: Figure) -> None:
        day = self.figures.setdefault(ordinal, {})
        day[source_id] = figure
        self.stale.add(ordinal)
        if figure.total is not None:
            self._mark_dated(ordinal)

    def _mark_dated(self, ordinal: int) -> None:
        # The common case, the next day in order, is an O(1) append.
        if not self.dates or self.dates[-1] < ordinal:
            self.dates.append(ordinal)
            return
        i = bisect_left(self.dates, ordinal)
        if i == len(self.dates) or self.dates[i] != ordinal:
            insort(self.dates, ordinal)

    def previous_date(self, ordinal: int) -> int | None:
        i = bisect_left(self.dates, ordinal)
        return self.dates[i - 1] if i > 0 else None

    def next_date(self, ordinal: int) -> int | None:
        i = bisect_right(self.dates, ordinal)
        return self.dates[i] if i < len(self.dates) else None

    def latest(self) -> int | None:
        return self.dates[-1] if self.dates else None


@dataclass(slots=True)
class LedgerState:
    """Everything a ledger needs to resume: its key and one book per source kind."""

    claimant: Claimant
    subject: Subject
    category: Category
    books: dict[DocumentKind, Book] = field(default_factory=dict)

    def book(self, kind: DocumentKind) -> Book:
        found = self.books.get(kind)
        if found is None:
            found = self.books[kind] = Book()
        return found


def encode_state(state: LedgerState) -> bytes:
    """O(n) in the number of days, but only the days changed since the last call are encoded
    again; the rest is a join of cached bytes. The same bytes as `orjson.dumps` of::

        {"v": 1, "key": [...], "books": {kind: [[ordinal, source_id, total, delta,
                                                 official, event_id], ...]}}
    """
    return b"".join([data for _, data in _pieces(state, _rows)])


def _rows(book: Book, block: int, ordinals: list[int]) -> bytes:
    """A block's rows as they stand in the JSON."""
    return b",".join([book.encoded[ordinal] for ordinal in ordinals])


def _packed(book: Book, block: int, ordinals: list[int]) -> bytes:
    """A block's rows compressed, from the book's cache while none of its days changed."""
    packed = book.compressed.get(block)
    if packed is None:
        packed = book.compressed[block] = zlib.compress(_rows(book, block, ordinals), 1)
    return packed


def _pieces(
    state: LedgerState, block_bytes: Callable[[Book, int, list[int]], bytes]
) -> Iterator[tuple[int, bytes]]:
    """The state's JSON in order, as (`_RAW`, the bytes between blocks) and (`_ZLIB`,
    `block_bytes(book, block, its ordinals)`) for each block of `BLOCK_DAYS` days that has a
    figure: one layout for the plain JSON and the framed record."""
    glue = bytearray(b'{"v":' + orjson.dumps(FORMAT_VERSION) + b',"key":')
    glue += orjson.dumps([state.claimant.value, state.subject.value, state.category.value])
    glue += b',"books":{'
    for n, (kind, book) in enumerate(sorted(state.books.items())):
        if n:
            glue += b","
        glue += orjson.dumps(kind.value) + b":["
        _encode_stale_days(book)
        days = sorted(book.figures)
        lo = 0
        while lo < len(days):
            block = days[lo] // BLOCK_DAYS
            hi = bisect_left(days, (block + 1) * BLOCK_DAYS, lo)
            if lo:
                glue += b","
            yield _RAW, bytes(glue)
            glue.clear()
            yield _ZLIB, block_bytes(book, block, days[lo:hi])
            lo = hi
        glue += b"]"
    glue += b"}}"
    yield _RAW, bytes(glue)


def _encode_stale_days(book: Book) -> None:
    """Encode the rows of each day changed since the last call, without the list's brackets.

    Only the chosen figure's event id is written; the others are written empty. The delta
    points at the chosen figure's event and at no other. A figure with a total that is not
    chosen never will be: ranks do not change, and a new source takes over only by ranking
    higher. A delta-only figure that later gains a total takes the new event's id
    (`merge_figure`). The ids are random hex, incompressible: writing them all made a busy
    key's record twice as large (0.56 against 0.26 MB in the test of it)."""
    for ordinal in book.stale:
        day = book.figures[ordinal]
        best = chosen(day)
        pointed = best[0] if best is not None else None
        rows = [
            [
                ordinal,
                source_id,
                fig.total,
                fig.reported_delta,
                1 if fig.official else 0,
                fig.event_id if source_id == pointed else "",
            ]
            for source_id, fig in sorted(day.items())
        ]
        book.encoded[ordinal] = orjson.dumps(rows)[1:-1]
        book.compressed.pop(ordinal // BLOCK_DAYS, None)
    book.stale.clear()


def state_record(state: LedgerState) -> bytes:
    """The state as the totals table stores it: `encode_state`'s JSON in frames, each block of
    `BLOCK_DAYS` days zlib-compressed on its own and kept until one of its days changes.

    The state is every figure of a key's whole history, and one table entry is one Kafka
    record, which brokers cap at 1 MB by default: articles quoting the personnel figure
    twenty times a day for two years made a 1.6 MB state, which Faust's producer refused, and
    the totals stage stopped. Compressed it was 0.46 MB (3.5x; 2.1x for reports alone, which
    carry fewer repeated source ids). Without the event ids of the figures not chosen
    (`_encode_stale_days`) the unit test's busy key takes 0.26 MB instead of 0.56.

    Compressing the whole JSON at every flush took 3.2 ms for 3,400 days of reports, 15 keys a
    second at a steady 100 documents/s; a flush now compresses the blocks that changed, in
    order mostly the last one (0.07 ms)."""
    out = bytearray(_FRAMED)
    for kind, data in _pieces(state, _packed):
        out += _FRAME.pack(kind, len(data))
        out += data
    return bytes(out)


def state_from_record(raw: bytes) -> LedgerState:
    """Inverse of `state_record`; also reads the plain JSON records written before compression
    and the records compressed whole that came next."""
    if raw[:1] == b"{":
        return decode_state(raw)
    if raw[:1] == _FRAMED:
        return decode_state(_unframe(raw))
    return decode_state(zlib.decompress(raw))


def _unframe(raw: bytes) -> bytes:
    parts: list[bytes] = []
    at = len(_FRAMED)
    while at < len(raw):
        if at + _FRAME.size > len(raw):
            raise ValueError("not a framed totals ledger record: a frame is cut short")
        kind, size = _FRAME.unpack_from(raw, at)
        at += _FRAME.size
        data = raw[at : at + size]
        if len(data) != size or kind not in (_RAW, _ZLIB):
            raise ValueError("not a framed totals ledger record: a frame is cut short or unknown")
        at += size
        parts.append(zlib.decompress(data) if kind == _ZLIB else data)
    return b"".join(parts)


def decode_state(raw: bytes) -> LedgerState:
    """Inverse of `encode_state`; O(n) because rows arrive sorted by day."""
    payload = orjson.loads(raw)
    if not isinstance(payload, dict) or payload.get("v") != FORMAT_VERSION:
        raise ValueError("not a version-1 totals ledger state")
    claimant, subject, category = payload["key"]
    state = LedgerState(Claimant(claimant), Subject(subject), Category(category))
    for kind_name, rows in payload["books"].items():
        book = state.book(DocumentKind(kind_name))
        for ordinal, source_id, total, delta, official, event_id in rows:
            book.record(
                int(ordinal),
                str(source_id),
                Figure(
                    None if total is None else int(total),
                    None if delta is None else int(delta),
                    bool(official),
                    str(event_id),
                ),
            )
    return state
