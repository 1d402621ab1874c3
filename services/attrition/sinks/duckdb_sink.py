"""The warehouse in a DuckDB file (or in memory, for tests and one-shot runs).

Sharing the file. DuckDB lets one process hold a database file for writing, or several hold
it read-only, never both. A worker that kept the file open would lock `attrition totals` and
`attrition export` out for its whole life, so this sink holds no connection between calls:
a write connects read-write, runs the batch in one transaction, and closes; a read connects
read-only, queries, and closes. Whoever meets the other side's lock retries with a short,
jittered backoff until `lock_timeout` runs out. The lock is held for one batch or one
query, milliseconds at attrition's volumes, so neither side waits long. (`:memory:` is private
to the process: there the one connection lives from `open()` to `close()`.)

DuckDB's Python API blocks, so every call runs in a worker thread (`asyncio.to_thread`) and
the event loop keeps serving; a lock serialises the calls of one instance. The worker's sink
keeps its write connection between writes that follow each other closely (`hold_seconds`).

Asking for a turn. A process that meets the other side's lock says so while it waits: it
touches `<file>.wants-turn` at every retry (`ask_for_turn`). A holder lets go for it once it
has held the file for `hold_seconds`, and otherwise keeps its connection: a held connection
that is given up costs a checkpoint, a pause for readers and a reconnect (about 0.3 s, a
seventh of the bench's pipeline row when it fell inside it), and while nobody waits it buys
nothing. Programs that cannot ask (another DuckDB client, or no right to write beside the
file) still get a turn every `UNASKED_HOLD_SECONDS`, and whenever writes pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from attrition.sinks import frame_rows, migrations, statements
from attrition.sinks.statements import FramedUpsert, Upsert
from attrition.sinks.warehouse import TABLES, Warehouse, WriteBatch

T = TypeVar("T")
Connection = duckdb.DuckDBPyConnection

MEMORY = ":memory:"


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    text = str(exc)
    # The second case is another connection of this same process holding the file with the
    # other access mode (read-only versus read-write); it too clears once that one closes.
    return "lock" in text.lower() or "different configuration" in text


#: A request for a turn counts while it is this fresh: a waiting process touches it at every
#: retry, at most 0.1 s apart (`connect`).
TURN_REQUEST_FRESH_SECONDS = 1.0


def turn_request(path: str) -> Path:
    """The file a process waiting for `path` touches to ask the holder for a turn."""
    return Path(f"{path}.wants-turn")


def ask_for_turn(path: str) -> bool:
    """Ask whoever holds `path` to let go (see the module's docstring); False if this process
    may not write beside the file, and so cannot ask."""
    try:
        turn_request(path).touch()
    except OSError:
        return False
    return True


def turn_asked(path: str) -> bool:
    """Whether another process is waiting for `path` now."""
    try:
        asked_at = turn_request(path).stat().st_mtime
    except OSError:
        return False
    return time.time() - asked_at < TURN_REQUEST_FRESH_SECONDS


def connect(path: str, write: bool, lock_timeout: float) -> Connection:
    """A connection to a DuckDB file, retrying while another process holds a conflicting lock,
    and asking that one for a turn meanwhile."""
    deadline = time.monotonic() + lock_timeout
    pause = 0.005
    asked = False
    while True:
        try:
            con = duckdb.connect(path, read_only=not write)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if not _is_lock_conflict(exc) or time.monotonic() >= deadline:
                raise
            asked = ask_for_turn(path) or asked
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 0.1)
            continue
        if asked:
            # Others still waiting touch it again at their next retry.
            with contextlib.suppress(OSError):
                turn_request(path).unlink()
        # Timestamps come back in UTC whatever the machine's zone, as from PostgreSQL.
        con.execute("SET TimeZone = 'UTC'")
        return con


def migrate(con: Connection) -> list[int]:
    """Apply the pending migrations in one transaction; the versions applied."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(migrations.SCHEMA_VERSION_DDL)
        applied = [v for (v,) in con.execute(statements.APPLIED_VERSIONS).fetchall()]
        todo = migrations.pending(applied)
        for migration in todo:
            for sql in migration.statements:
                con.execute(sql)
            con.execute(
                statements.RECORD_VERSION.replace("%s", "?"),
                [migration.version, migration.description, datetime.now(UTC)],
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return [m.version for m in todo]


def _applied_versions(con: Connection) -> list[int]:
    try:
        return [v for (v,) in con.execute(statements.APPLIED_VERSIONS).fetchall()]
    except duckdb.CatalogException:
        return []


# Column → SQL type of each table, read from the database the first time a process writes to
# it: every database a process writes has been migrated to the same (latest) schema.
_column_types: dict[str, dict[str, str]] = {}


def column_types(con: Connection, table: str) -> dict[str, str]:
    types = _column_types.get(table)
    if types is None:
        found = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
            [table],
        ).fetchall()
        if not found:
            raise LookupError(f"warehouse table {table!r} does not exist")
        types = _column_types[table] = dict(found)
    return types


# The Arrow type of each DuckDB column type the migrations use. A value that does not fit
# (an int beyond INTEGER, say) fails the batch loudly rather than being cast.
_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
}
_BATCH_RELATION = "attrition_batch_rows"


def arrow_rows(step: Upsert, types: dict[str, str]) -> pa.Table:
    """An upsert's rows as an Arrow table in the target table's column types.

    DuckDB reads an Arrow table in place. Binding a list per column instead converted every
    value in Python while holding the interpreter, and a JSON text of the lists had DuckDB
    parse it on one thread: 20,000 loss events took 280-320 ms that way, 100-150 ms so."""
    return pa.table(
        {
            name: pa.array(values, type=_ARROW_TYPES[types[name]])
            for name, values in zip(step.columns, step.values, strict=True)
        }
    )


def run_steps(
    con: Connection, steps: Sequence[statements.Step], *, insert_only: bool = False
) -> None:
    """Run a batch's steps in one transaction. With `insert_only`, the rows read from messages
    (`FramedUpsert`) are inserted without their upsert's `ON CONFLICT`: a row already there
    fails the transaction (`duckdb.ConstraintException`) instead (see `write_batch`)."""
    con.execute("BEGIN TRANSACTION")
    try:
        for step in steps:
            if isinstance(step, Upsert):
                rows = arrow_rows(step, column_types(con, step.table))
                _insert_from(con, rows, step.insert_from(_BATCH_RELATION))
            elif isinstance(step, FramedUpsert):
                rows = frame_rows.frames_table(step.table, step.frames)
                _insert_from(
                    con,
                    rows,
                    f"INSERT INTO {step.table} ({', '.join(step.columns)}) "
                    f"{frame_rows.select_rows(step.table, _BATCH_RELATION)} "
                    f"{'' if insert_only else step.conflict}",
                )
            else:
                sql, params = step
                con.execute(sql.replace("%s", "?"), params)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        # Only now: in a failed transaction DuckDB refuses even this, and its refusal would
        # stand in for the error that failed it.
        with contextlib.suppress(duckdb.Error):
            con.unregister(_BATCH_RELATION)
        raise


def _insert_from(con: Connection, rows: pa.Table, sql: str) -> None:
    """Run `sql`, an insert that reads `rows` as the relation `_BATCH_RELATION`."""
    con.register(_BATCH_RELATION, rows)
    con.execute(sql)
    con.unregister(_BATCH_RELATION)


#: After a write found one of its rows already in the warehouse, writes upsert for this long
#: before they try plain inserts again (see `write_batch`).
UPSERT_AFTER_CONFLICT_SECONDS = 30.0


class ConflictWatch:
    """When the next write may insert its rows plainly (`write_batch`)."""

    def __init__(self) -> None:
        self.upsert_until = 0.0


def write_batch(con: Connection, steps: Sequence[statements.Step], watch: ConflictWatch) -> None:
    """Run a batch's steps, inserting its new rows first and upserting only if one was there.

    An upsert's `ON CONFLICT` makes DuckDB look up every row's key before it inserts it, and
    the primary-key index insert looks it up again: 20,000 loss events and their deltas, in
    writes of 5,000 into a new file, took 376-413 ms with it and 317-345 ms without. Rows
    are new in nearly every write (a key's ids are new unless its figures are sent again),
    so a write first inserts them plainly. A row already there is a replay or a re-sent
    delta: DuckDB then fails the whole transaction (it has no savepoints), the write is run
    again as upserts, and so are the writes of the next `UPSERT_AFTER_CONFLICT_SECONDS`, as a
    replay comes in runs: each run costs one write done twice. Either way the table ends the
    same (tests/sinks/test_duckdb_insert_first.py)."""
    if time.monotonic() >= watch.upsert_until and any(
        isinstance(step, FramedUpsert) for step in steps
    ):
        try:
            run_steps(con, steps, insert_only=True)
            return
        except duckdb.ConstraintException:
            # Another constraint (a NOT NULL) fails the upserts below too, and so the write.
            watch.upsert_until = time.monotonic() + UPSERT_AFTER_CONFLICT_SECONDS
    run_steps(con, steps)


#: After a held connection was let go because it reached `hold_seconds`, the next write waits
#: this long before connecting again: longer than a waiting reader's longest pause between
#: attempts (`connect`), so a reader blocked by a long burst of writes gets its turn.
READER_TURN_SECONDS = 0.2
#: The longest a connection is held through back-to-back writes when no process has asked for
#: a turn: for readers that cannot ask (see the module's docstring).
UNASKED_HOLD_SECONDS = 30.0
#: A held write connection is closed once no write has come for this long: longer than the
#: sinks' batch window (`sink_batch_seconds`, 0.5 s), so that a stream whose writes come a window
#: apart keeps its connection. At 0.25 s a busy sink waiting out its window lost it in
#: between, and the next write paid the close's checkpoint and a connect (85 and 69 ms in a
#: logged pipeline row).
IDLE_RELEASE_SECONDS = 0.75


class DuckDbWarehouse(Warehouse):
    """`hold_seconds` > 0 (the worker's sink): the write connection stays open while writes
    follow each other (closed after `IDLE_RELEASE_SECONDS` without one; and, once held for
    `hold_seconds`, after the first write that finds a process waiting for the file, or held
    for `UNASKED_HOLD_SECONDS` when none asks; then left closed for `READER_TURN_SECONDS`).
    Connecting, and the checkpoint DuckDB makes when a writer closes, cost 30-90 ms a write,
    growing with the file; during a backfill they took a third of the sink's time. Readers
    then wait at most about `hold_seconds`; at a report a day the connection is closed
    `IDLE_RELEASE_SECONDS` after each write."""

    def __init__(self, path: str, lock_timeout: float = 30.0, hold_seconds: float = 0.0) -> None:
        self.path = path
        self.lock_timeout = lock_timeout
        self.hold_seconds = hold_seconds
        self._memory = path == MEMORY
        self._shared: Connection | None = None
        self._guard = threading.Lock()
        self.applied_on_open: list[int] = []
        self._held: Connection | None = None
        self._held_since = 0.0
        self._last_write = 0.0
        self._reopen_at = 0.0
        self._releaser: asyncio.Task[None] | None = None
        # Set by the write that finds the connection held for `hold_seconds`: the connection
        # is let go after that write returns, not inside it (`_let_readers_in`).
        self._close_due = False
        self._closer: asyncio.Task[None] | None = None
        self._conflicts = ConflictWatch()

    # -- connections -----------------------------------------------------------------------

    @contextmanager
    def _connection(self, write: bool) -> Iterator[Connection]:
        with self._guard:
            if self._memory:
                if self._shared is None:
                    raise RuntimeError("warehouse is not open")
                yield self._shared
                return
            if self._held is not None:  # this process's own write connection reads too
                yield self._held
                return
            con = connect(self.path, write, self.lock_timeout)
            try:
                yield con
            finally:
                con.close()

    async def run(self, work: Callable[[Connection], T], write: bool = False) -> T:
        """Run `work` with a connection of its own in a worker thread (the export uses it)."""

        def call() -> T:
            with self._connection(write) as con:
                return work(con)

        return await asyncio.to_thread(call)

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        self.applied_on_open = await asyncio.to_thread(self._open)

    def _open(self) -> list[int]:
        if self._memory:
            self._shared = connect(MEMORY, True, 0)
            return migrate(self._shared)
        file = Path(self.path)
        if file.exists():
            # Most opens find the schema current: find that out without taking the write lock.
            with self._connection(write=False) as con:
                if not migrations.pending(_applied_versions(con)):
                    return []
        file.parent.mkdir(parents=True, exist_ok=True)
        with self._connection(write=True) as con:
            return migrate(con)

    async def close(self) -> None:
        if self._releaser is not None:
            self._releaser.cancel()
            self._releaser = None
        if self._closer is not None:
            await self._closer
            self._closer = None
        await asyncio.to_thread(self._let_go, 0.0)
        if self._shared is not None:
            shared, self._shared = self._shared, None
            await asyncio.to_thread(shared.close)

    # -- writes ----------------------------------------------------------------------------

    async def write(self, batch: WriteBatch) -> None:
        steps = statements.write_steps(batch, framed=True)
        if not steps:
            return
        if self._memory or self.hold_seconds <= 0:
            await self.run(lambda con: write_batch(con, steps, self._conflicts), write=True)
            return
        await asyncio.to_thread(self._write_held, steps)
        if self._close_due and (self._closer is None or self._closer.done()):
            self._closer = asyncio.create_task(asyncio.to_thread(self._let_readers_in))
        if self._releaser is None or self._releaser.done():
            self._releaser = asyncio.create_task(self._release_when_idle())

    def _write_held(self, steps: Sequence[statements.Step]) -> None:
        with self._guard:
            if self._close_due:  # this write came before the closer: it closes first
                self._give_readers_a_turn()
            if self._held is None:
                time.sleep(max(0.0, self._reopen_at - time.monotonic()))
                self._held = connect(self.path, True, self.lock_timeout)
                self._held_since = time.monotonic()
            try:
                write_batch(self._held, steps, self._conflicts)
            except BaseException:
                self._close_held()
                raise
            self._last_write = time.monotonic()
            # Closing makes DuckDB checkpoint (60-140 ms in the bench's pipeline): done after
            # this write has returned, so that its events are acked without waiting for it.
            held = self._last_write - self._held_since
            self._close_due = held >= self.hold_seconds and (
                held >= UNASKED_HOLD_SECONDS or turn_asked(self.path)
            )

    def _let_readers_in(self) -> None:
        with self._guard:
            if self._close_due:
                self._give_readers_a_turn()

    def _give_readers_a_turn(self) -> None:
        """Close the connection held for `hold_seconds`; the next write waits
        `READER_TURN_SECONDS` before connecting again."""
        self._close_held()
        self._reopen_at = time.monotonic() + READER_TURN_SECONDS

    def _close_held(self) -> None:
        self._close_due = False  # closed for whatever reason: readers can get in
        held, self._held = self._held, None
        if held is not None:
            held.close()

    def _let_go(self, idle: float) -> None:
        """Close the held connection if no write came for `idle` seconds."""
        with self._guard:
            if time.monotonic() - self._last_write >= idle:
                self._close_held()

    async def _release_when_idle(self) -> None:
        while self._held is not None:
            await asyncio.sleep(IDLE_RELEASE_SECONDS)
            await asyncio.to_thread(self._let_go, IDLE_RELEASE_SECONDS)

    # -- reads -----------------------------------------------------------------------------

    async def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        def work(con: Connection) -> list[dict[str, Any]]:
            cursor = con.execute(sql.replace("%s", "?"), list(params))
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return await self.run(work)

    async def counts(self) -> dict[str, int]:
        def work(con: Connection) -> dict[str, int]:
            found = {}
            for table in TABLES:
                row = con.execute(statements.count_query(table)).fetchone()
                found[table] = int(row[0]) if row else 0
            return found

        return await self.run(work)

    async def dump(self, table: str) -> list[dict[str, Any]]:
        return await self._query(statements.dump_query(table))

    async def schema_version(self) -> int:
        return max(await self.run(_applied_versions), default=0)
