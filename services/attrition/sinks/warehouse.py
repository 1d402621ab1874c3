"""The warehouse interface the sink agent and the CLI speak, and `open_warehouse(url)`.

Two engines implement it with the same tables and the same SQL where the dialects allow:
DuckDB (a file, or `:memory:`) and PostgreSQL. Everything a reader sees (current totals,
the `daily_losses` view, table dumps) comes back as plain Python values that compare equal
across the engines, so a test can hold one engine's answer against the other's.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

from attrition.contracts.events import AlertEvent, DeadLetter, DeltaEvent, LossEvent
from attrition.contracts.vocabulary import Category, Claimant, DeltaFlag, DocumentKind, Subject
from attrition.sinks import statements
from attrition.sinks.rows import loss_event_from_row
from attrition.totals.ledger_rebuild import HeldDelta, held_delta

# Tables a dump or an audit may name; `schema_version` is the migrations' own bookkeeping.
TABLES = ("loss_events", "deltas", "alerts", "dead_letters", "current_totals")


@dataclass(frozen=True)
class WriteBatch:
    """Events the sink agent collected; written in one transaction."""

    loss_events: Sequence[LossEvent] = field(default_factory=tuple)
    deltas: Sequence[DeltaEvent] = field(default_factory=tuple)
    alerts: Sequence[AlertEvent] = field(default_factory=tuple)
    dead_letters: Sequence[DeadLetter] = field(default_factory=tuple)
    #: The framed messages (contracts/batches.py) that hold exactly `loss_events`, in any
    #: order, or nothing: DuckDB reads the rows from them (sinks/frame_rows.py).
    loss_event_frames: Sequence[bytes] = field(default_factory=tuple)
    #: The same for `deltas`.
    delta_frames: Sequence[bytes] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.loss_events) + len(self.deltas) + len(self.alerts) + len(self.dead_letters)


@dataclass(frozen=True, order=True)
class TotalRow:
    """The current running total of one (claimant, subject, category, source kind)."""

    claimant: Claimant
    subject: Subject
    category: Category
    source_kind: DocumentKind
    total: int
    as_of: date
    delta_id: str

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> TotalRow:
        return cls(
            claimant=Claimant(row["claimant"]),
            subject=Subject(row["subject"]),
            category=Category(row["category"]),
            source_kind=DocumentKind(row["source_kind"]),
            total=row["total"],
            as_of=row["as_of"],
            delta_id=row["delta_id"],
        )


class Warehouse(abc.ABC):
    """An analytical store of attrition's events. Use as `async with open_warehouse(url) as w`."""

    # Migration versions the last `open()` applied: empty when the schema was already current.
    applied_on_open: list[int]

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and bring the schema up to date (applying nothing when it already is)."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def write(self, batch: WriteBatch) -> None:
        """Upsert a batch in one transaction; writing the same batch again changes no row."""

    @abc.abstractmethod
    async def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of one read statement (`%s` placeholders), as dicts."""

    async def current_totals(
        self, claimant: Claimant | str | None = None, subject: Subject | str | None = None
    ) -> list[TotalRow]:
        """Latest current total per key, ordered by claimant, subject, category, source kind."""
        sql, params = statements.current_totals_query(
            None if claimant is None else Claimant(claimant).value,
            None if subject is None else Subject(subject).value,
        )
        return [TotalRow.from_mapping(r) for r in await self._query(sql, params)]

    async def daily_losses(
        self,
        claimant: Claimant | str = Claimant.ua_general_staff,
        subject: Subject | str = Subject.russia,
    ) -> list[dict[str, Any]]:
        """Rows of the `daily_losses` view for one claimant and subject, oldest day first."""
        return await self._query(
            statements.DAILY_LOSSES_QUERY, [Claimant(claimant).value, Subject(subject).value]
        )

    async def loss_events_of(
        self, claimant: Claimant, subject: Subject, category: Category
    ) -> list[LossEvent]:
        """Every loss event of one totals key, oldest day first (a ledger can be rebuilt from
        them: its state depends on what was stated, not on the order)."""
        rows = await self._query(
            statements.LOSS_EVENTS_OF_KEY, [claimant.value, subject.value, category.value]
        )
        return [loss_event_from_row(r) for r in rows]

    async def current_deltas_of(
        self, claimant: Claimant, subject: Subject, category: Category
    ) -> dict[tuple[DocumentKind, date], list[HeldDelta]]:
        """What the warehouse holds of the current (unsuperseded) deltas of one totals key, by
        source kind and day."""
        rows = await self._query(
            statements.CURRENT_DELTAS_OF_KEY, [claimant.value, subject.value, category.value]
        )
        found: dict[tuple[DocumentKind, date], list[HeldDelta]] = {}
        for r in rows:
            flags = [DeltaFlag(f) for f in orjson.loads(r["flags"])]
            held = held_delta(r["delta_id"], flags, r["source_id"], r["event_id"])
            found.setdefault((DocumentKind(r["source_kind"]), r["as_of"]), []).append(held)
        return found

    async def delta_ids(self, current_only: bool = True) -> set[str]:
        sql = statements.CURRENT_DELTA_IDS if current_only else statements.ALL_DELTA_IDS
        return {r["delta_id"] for r in await self._query(sql)}

    @abc.abstractmethod
    async def counts(self) -> dict[str, int]:
        """Rows per table in `TABLES`."""

    @abc.abstractmethod
    async def dump(self, table: str) -> list[dict[str, Any]]:
        """Every row of a table in `TABLES` or of `daily_losses`, in primary-key order."""

    @abc.abstractmethod
    async def schema_version(self) -> int:
        """The highest migration applied."""

    async def __aenter__(self) -> Warehouse:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def open_warehouse(url: str, *, hold_seconds: float = 0.0) -> Warehouse:
    """The warehouse a URL names, not yet opened. `hold_seconds`: how long a DuckDB file's
    write connection may stay open across writes that follow each other (see DuckDbWarehouse;
    a PostgreSQL warehouse keeps its connections in any case).

    `duckdb:///relative/or/absolute.duckdb` (three slashes, then the path as written, so
    `duckdb:////var/lib/a.duckdb` is absolute), `duckdb:///:memory:`, or a libpq URL
    `postgresql://user:pass@host:port/db?host=/socket/dir`.
    """
    if url.startswith("duckdb://"):
        from attrition.sinks.duckdb_sink import DuckDbWarehouse

        path = url.removeprefix("duckdb://").removeprefix("/")
        if not path:
            raise ValueError(f"no database file in warehouse URL {url!r}")
        return DuckDbWarehouse(path, hold_seconds=hold_seconds)
    if url.startswith(("postgresql://", "postgres://")):
        from attrition.sinks.postgres_sink import PostgresWarehouse

        return PostgresWarehouse(url)
    raise ValueError(f"unsupported warehouse URL {url!r}: use duckdb:/// or postgresql://")
