"""The warehouse in PostgreSQL, through one psycopg 3 async connection opened by `open()`.

The connection runs in autocommit and every batch opens its own transaction, so a failed
batch leaves nothing behind and the connection stays usable. An asyncio lock keeps one
instance's calls from interleaving inside each other's transactions. Migrations take a
transaction-scoped advisory lock: workers starting together do not race to create tables.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from attrition.sinks import migrations, statements
from attrition.sinks.statements import FramedUpsert, Upsert
from attrition.sinks.warehouse import TABLES, Warehouse, WriteBatch

# Arbitrary, fixed: the advisory-lock id every attrition process takes to migrate.
MIGRATION_LOCK_ID = 0x61747472  # "attr"

#: How long a connection attempt may take unless the URL sets `connect_timeout`: libpq's own
#: default is to wait for ever, and a server that accepts the TCP connection and never answers
#: would then hold the sink (and its retries, and a stop) for as long as the network lets it.
CONNECT_TIMEOUT_SECONDS = 10


class PostgresWarehouse(Warehouse):
    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()
        self.applied_on_open: list[int] = []

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        given = conninfo_to_dict(self.url)
        timeout: dict[str, Any] = (
            {} if "connect_timeout" in given else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )
        conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True, **timeout)
        # Timestamps come back in UTC whatever the server's zone, as from DuckDB.
        await conn.execute("SET TIME ZONE 'UTC'")
        return conn

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None:
            raise RuntimeError("warehouse is not open")
        if self._conn.closed:
            # A server restart or a dropped link breaks the connection; a long-running sink
            # reconnects on its next call instead of failing every batch from then on.
            self._conn = await self._connect()
        return self._conn

    async def open(self) -> None:
        self._conn = await self._connect()
        self.applied_on_open = await self._migrate()

    async def _migrate(self) -> list[int]:
        conn = await self._connection()
        async with self._lock, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK_ID])
            await conn.execute(migrations.SCHEMA_VERSION_DDL)
            cursor = await conn.execute(statements.APPLIED_VERSIONS)
            todo = migrations.pending([v for (v,) in await cursor.fetchall()])
            for migration in todo:
                for sql in migration.statements:
                    await conn.execute(sql)
                await conn.execute(
                    statements.RECORD_VERSION,
                    [migration.version, migration.description, datetime.now(UTC)],
                )
        return [m.version for m in todo]

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    async def write(self, batch: WriteBatch) -> None:
        steps = statements.write_steps(batch)
        if not steps:
            return
        conn = await self._connection()
        async with self._lock, conn.transaction():
            for step in steps:
                if isinstance(step, FramedUpsert):  # only asked for by DuckDB (`framed`)
                    raise TypeError("PostgreSQL writes rows from the events, not their frames")
                for sql, params in step.values_statements() if isinstance(step, Upsert) else [step]:
                    await conn.execute(sql, params)

    async def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        conn = await self._connection()
        async with self._lock:
            cursor = await conn.execute(sql, list(params) or None)
            names = [d.name for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]

    async def counts(self) -> dict[str, int]:
        found = {}
        for table in TABLES:
            rows = await self._query(statements.count_query(table))
            found[table] = int(next(iter(rows[0].values())))
        return found

    async def dump(self, table: str) -> list[dict[str, Any]]:
        return await self._query(statements.dump_query(table))

    async def schema_version(self) -> int:
        rows = await self._query(statements.APPLIED_VERSIONS)
        return max((r["version"] for r in rows), default=0)
