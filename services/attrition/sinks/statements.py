"""The SQL both engines run, with `%s` placeholders (the DuckDB sink swaps them for `?`).

A batch becomes an ordered list of steps (upserts and statements); each engine only executes
them inside one transaction. One list for both is what makes their results identical. (DuckDB
reads the rows of loss events and deltas from the messages they came in, where it can:
`FramedUpsert`, sinks/frame_rows.py, whose test holds those rows equal to these.)

Supersession: a delta with `replaces = X` marks X superseded. It is derived from the whole
`deltas` table after the batch's rows are in, so it does not matter whether X arrives before,
with, or after its replacement, and `superseded_by` is never cleared: a replayed old version
stays superseded. `current_totals` is likewise recomputed, for the keys the batch touched,
from the current (unsuperseded) deltas: the latest as_of wins, so a replayed older delta
cannot move a total back and a correction of the latest day replaces that day's total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from attrition.sinks.rows import (
    ALERT_COLUMNS,
    ALERT_TABLE,
    DEAD_LETTER_COLUMNS,
    DEAD_LETTER_TABLE,
    DELTA_COLUMNS,
    DELTA_TABLE,
    LOSS_EVENT_COLUMNS,
    LOSS_EVENT_TABLE,
    Row,
    column_values,
    unique_by_id,
    unique_deltas,
)

if TYPE_CHECKING:  # warehouse.py reads through these statements: no import cycle
    from attrition.sinks.warehouse import WriteBatch

Statement = tuple[str, Sequence[Any]]

# Rows per INSERT of a VALUES list: 500 rows of the widest table stay far below
# PostgreSQL's 65535-parameter limit.
ROWS_PER_INSERT = 500

PRIMARY_KEYS = {
    "loss_events": ("event_id",),
    "deltas": ("delta_id",),
    "alerts": ("alert_id",),
    "dead_letters": ("dead_letter_id",),
    "current_totals": ("claimant", "subject", "category", "source_kind"),
    "daily_losses": ("claimant", "subject", "as_of"),
}
TOTALS_KEY = PRIMARY_KEYS["current_totals"]
_DELTA_COLUMN = {name: i for i, name in enumerate(DELTA_COLUMNS)}


@dataclass(frozen=True)
class Upsert:
    """Rows for one table, keyed on its primary key: kept (`update=False`) or replaced.

    The rows are held a column at a time (`values[i]` is column `columns[i]` of every row).
    Each engine takes its own fast batched path: PostgreSQL multi-row VALUES lists, DuckDB
    one INSERT … SELECT from the columns as an Arrow table (duckdb_sink.arrow_rows).
    """

    table: str
    columns: Sequence[str]
    values: Sequence[Sequence[Any]]
    update: bool

    @property
    def rows(self) -> list[Row]:
        return list(zip(*self.values, strict=True))

    @property
    def _conflict(self) -> str:
        return conflict_clause(self.table, self.columns, self.update)

    def values_statements(self) -> list[Statement]:
        one = "(" + ", ".join(["%s"] * len(self.columns)) + ")"
        found: list[Statement] = []
        rows = self.rows
        for start in range(0, len(rows), ROWS_PER_INSERT):
            chunk = rows[start : start + ROWS_PER_INSERT]
            sql = (
                f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES "
                + ", ".join([one] * len(chunk))
                + f" {self._conflict}"
            )
            found.append((sql, [value for row in chunk for value in row]))
        return found

    def insert_from(self, relation: str) -> str:
        """DuckDB: the upsert of the rows of `relation`, a registered table of these columns."""
        columns = ", ".join(self.columns)
        return (
            f"INSERT INTO {self.table} ({columns}) SELECT {columns} FROM {relation} "
            f"{self._conflict}"
        )


def conflict_clause(table: str, columns: Sequence[str], update: bool) -> str:
    """What an upsert into `table` does with a row whose primary key is there already."""
    keys = PRIMARY_KEYS[table]
    if not update:
        return f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
    keep = KEEP_WHEN_NULL.get(table, frozenset())
    assignments = ", ".join(
        f"{c} = COALESCE(excluded.{c}, {table}.{c})" if c in keep else f"{c} = excluded.{c}"
        for c in columns
        if c not in keys
    )
    return f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}"


@dataclass(frozen=True)
class FramedUpsert:
    """DuckDB: an `Upsert` whose rows are read from the framed messages that hold them
    (sinks/frame_rows.py), not from the event objects. Only for a batch without a repeated id:
    which of two rows of one id stands is decided in Python (`rows.unique_by_id`,
    `rows.unique_deltas`)."""

    table: str
    columns: Sequence[str]
    frames: Sequence[bytes]
    update: bool

    @property
    def conflict(self) -> str:
        return conflict_clause(self.table, self.columns, self.update)


Step = Upsert | FramedUpsert | Statement

#: Columns an update keeps when the new row has NULL there.
KEEP_WHEN_NULL: dict[str, frozenset[str]] = {"deltas": frozenset({"replaces"})}


SUPERSEDE = """
UPDATE deltas SET superseded_by = (
    SELECT MIN(r.delta_id) FROM deltas AS r
    WHERE r.replaces = deltas.delta_id AND r.delta_id <> deltas.delta_id
)
WHERE superseded_by IS NULL
  AND delta_id IN (
    SELECT replaces FROM deltas WHERE replaces IS NOT NULL AND replaces <> delta_id
  )
"""


TouchedKeys = Sequence[tuple[str, str, str, str]]  # claimant, subject, category, source kind


def _touched_and_bound(keys: TouchedKeys) -> Statement:
    """`WITH touched, bound`: the keys, and the earliest as_of their refresh has to read.

    A key's new current delta is at least as late as the delta it holds now, if that one is
    still current: being current, it is among the candidates, and nothing that sorts before it
    can win. So the bound is the earliest as_of the touched keys hold; a key that holds nothing,
    or a delta superseded since (a correction of its latest day), lowers it to the first date,
    and all its deltas are read. The held delta is joined on its id alone, which DuckDB answers
    from the primary key's index; with more in the join condition it read the whole table."""
    touched = ", ".join(["(%s, %s, %s, %s)"] * len(keys))
    held_on = " AND ".join(f"ct.{c} = touched.{c}" for c in TOTALS_KEY)
    held_key = " AND ".join(f"held.{c} = ct.{c}" for c in TOTALS_KEY)
    sql = f"""
WITH touched (claimant, subject, category, source_kind) AS (VALUES {touched}),
bound AS (
    SELECT MIN(CASE WHEN held.superseded_by IS NULL AND {held_key} THEN held.as_of
                    ELSE DATE '0001-01-01' END) AS as_of
    FROM touched
    LEFT JOIN current_totals AS ct ON {held_on}
    LEFT JOIN deltas AS held ON held.delta_id = ct.delta_id
)
"""
    return sql, [value for key in keys for value in key]


def refresh_bound_query(keys: TouchedKeys) -> Statement:
    """The bound the current-totals refresh of `keys` would read from, as one row."""
    with_bound, params = _touched_and_bound(keys)
    return with_bound + "SELECT as_of FROM bound", params


def _refresh_totals(keys: TouchedKeys) -> Statement:
    # Ties on as_of (two current deltas of one day that do not replace each other) go to the
    # larger delta_id: arbitrary, but the same in both engines and on every replay.
    # DISTINCT ON keeps each key's first row in that order, as ROW_NUMBER() = 1 did, in under
    # half the time on DuckDB (8.8 against 19.8 ms for 15 keys of 20,000 deltas).
    # Only deltas on or after the bound are read (`_touched_and_bound`); the rest is skipped
    # by DuckDB's per-block minima and by PostgreSQL's (key, as_of) index. With 2 million
    # deltas in DuckDB the refresh took 230-376 ms a write reading them all (median 295),
    # 9-21 ms so (median 11).
    with_bound, params = _touched_and_bound(keys)
    on = " AND ".join(f"d.{c} = touched.{c}" for c in TOTALS_KEY)
    by_key = ", ".join(f"d.{c}" for c in TOTALS_KEY)
    sql = f"""
INSERT INTO current_totals (claimant, subject, category, source_kind, total, as_of, delta_id)
{with_bound}
SELECT DISTINCT ON ({by_key})
       d.claimant, d.subject, d.category, d.source_kind, d.total, d.as_of, d.delta_id
FROM deltas AS d
JOIN touched ON {on}
WHERE d.superseded_by IS NULL AND d.as_of >= (SELECT as_of FROM bound)
ORDER BY {by_key}, d.as_of DESC, d.delta_id DESC
ON CONFLICT (claimant, subject, category, source_kind) DO UPDATE
SET total = excluded.total, as_of = excluded.as_of, delta_id = excluded.delta_id
"""
    return sql, params


def _each_once(events: Sequence[Any], id_field: str) -> bool:
    get = attrgetter(id_field)
    return len(set(map(get, events))) == len(events)


def write_steps(batch: WriteBatch, *, framed: bool = False) -> list[Step]:
    """What writing a batch runs, in order; empty for an empty batch. With `framed` (DuckDB),
    loss events and deltas that came with their messages and hold no id twice are written
    from those (`FramedUpsert`)."""
    steps: list[Step] = []
    losses = batch.loss_events
    if framed and batch.loss_event_frames and _each_once(losses, "event_id"):
        steps.append(
            FramedUpsert("loss_events", LOSS_EVENT_COLUMNS, batch.loss_event_frames, update=False)
        )
    elif losses := unique_by_id(losses, "event_id"):
        values = column_values(LOSS_EVENT_TABLE, losses)
        steps.append(Upsert("loss_events", LOSS_EVENT_COLUMNS, values, update=False))
    deltas = batch.deltas
    keys: list[tuple[str, str, str, str]] = []
    if framed and batch.delta_frames and _each_once(deltas, "delta_id"):
        steps.append(FramedUpsert("deltas", DELTA_COLUMNS, batch.delta_frames, update=True))
        # The members are str: distinct keys first, then plain strings for the few there are
        # (half the time of converting every delta's, 3 against 6 ms for 20,000 deltas).
        touched = {(d.claimant, d.subject, d.category, d.source_kind) for d in deltas}
        keys = sorted(
            (str(claimant), str(subject), str(category), str(kind))
            for claimant, subject, category, kind in touched
        )
    elif deltas := unique_deltas(deltas):
        values = column_values(DELTA_TABLE, deltas)
        # A re-sent delta id carries its latest source and flags; `replaces` is kept when the
        # re-send has none (see rows.unique_deltas).
        steps.append(Upsert("deltas", DELTA_COLUMNS, values, update=True))
        keys = sorted(set(zip(*(values[_DELTA_COLUMN[c]] for c in TOTALS_KEY), strict=True)))
    if keys:
        steps.append((SUPERSEDE, []))
        steps.append(_refresh_totals(keys))
    alerts = unique_by_id(batch.alerts, "alert_id")
    if alerts:
        # An alert id names (key, day, kind): a recomputed alert replaces the earlier wording.
        values = column_values(ALERT_TABLE, alerts)
        steps.append(Upsert("alerts", ALERT_COLUMNS, values, update=True))
    letters = unique_by_id(batch.dead_letters, "dead_letter_id")
    if letters:
        values = column_values(DEAD_LETTER_TABLE, letters)
        steps.append(Upsert("dead_letters", DEAD_LETTER_COLUMNS, values, update=False))
    return steps


def current_totals_query(claimant: str | None, subject: str | None) -> Statement:
    where, params = [], []
    if claimant is not None:
        where.append("claimant = %s")
        params.append(claimant)
    if subject is not None:
        where.append("subject = %s")
        params.append(subject)
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    return (
        "SELECT claimant, subject, category, source_kind, total, as_of, delta_id "
        f"FROM current_totals {clause}ORDER BY {', '.join(TOTALS_KEY)}",
        params,
    )


LOSS_EVENTS_OF_KEY = (
    f"SELECT {', '.join(LOSS_EVENT_COLUMNS)} FROM loss_events "
    "WHERE claimant = %s AND subject = %s AND category = %s ORDER BY as_of, event_id"
)
CURRENT_DELTAS_OF_KEY = (
    "SELECT source_kind, as_of, delta_id, flags, source_id, event_id FROM deltas "
    "WHERE claimant = %s AND subject = %s AND category = %s AND superseded_by IS NULL"
)
DAILY_LOSSES_QUERY = (
    "SELECT * FROM daily_losses WHERE claimant = %s AND subject = %s ORDER BY as_of"
)
ALL_DELTA_IDS = "SELECT delta_id FROM deltas"
CURRENT_DELTA_IDS = "SELECT delta_id FROM deltas WHERE superseded_by IS NULL"
APPLIED_VERSIONS = "SELECT version FROM schema_version ORDER BY version"
RECORD_VERSION = "INSERT INTO schema_version (version, description, applied_at) VALUES (%s, %s, %s)"


def count_query(table: str) -> str:
    _known(table)
    return f"SELECT count(*) FROM {table}"


def dump_query(table: str) -> str:
    _known(table)
    return f"SELECT * FROM {table} ORDER BY {', '.join(PRIMARY_KEYS[table])}"


def _known(table: str) -> None:
    # Table names are spliced into SQL: only the fixed set may get there.
    if table not in PRIMARY_KEYS:
        raise ValueError(f"unknown warehouse table {table!r}")
