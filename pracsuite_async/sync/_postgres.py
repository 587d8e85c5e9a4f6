"""PostgreSQL through asyncpg (the ``postgres`` extra), for mirrors shared by many hosts.

Same layout as the SQLite sink, with ``data`` as ``jsonb``. A commit is one
transaction; its upsert reports inserted vs updated rows through ``xmax`` and skips
rows whose JSON is unchanged. Leases are session advisory locks
(``pg_try_advisory_lock``) held on a dedicated connection: PostgreSQL drops them
when that connection ends, so a crashed worker never blocks the next one.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from pracsuite_async.sync._sink import Batch, Checkpoint, LeaseHeldError, WriteCounts
from pracsuite_async.sync._specs import ResourceSync

if TYPE_CHECKING:
    import asyncpg

__all__ = ["PostgresSink"]

CHECKPOINTS = "_pracsuite_checkpoints"
_HINT = "PostgresSink needs asyncpg: pip install 'pracsuite-async[postgres]'"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lock_key(account: str, resource: str) -> int:
    # A stable signed 64-bit key (advisory locks take a bigint).
    digest = hashlib.sha256(f"pracsuite-sync\0{account}\0{resource}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresSink:
    """Mirror into PostgreSQL tables (one per resource) in ``schema``.

    Args:
        dsn: A libpq connection string or URL, e.g. ``postgresql://user@host/db``.
        schema: The schema holding the tables (created if missing).
        max_connections: Pool size (one more is taken per lease held).
    """

    def __init__(self, dsn: str, *, schema: str = "public", max_connections: int = 4) -> None:
        self._dsn = dsn
        self.schema = schema
        self._max = max_connections
        self._pool: asyncpg.Pool | None = None
        self._tables: set[str] = set()

    def __repr__(self) -> str:
        # The DSN may carry a password: never shown.
        return f"PostgresSink(schema={self.schema!r})"

    def _t(self, name: str) -> str:
        return f"{_q(self.schema)}.{_q(name)}"

    @property
    def pool(self) -> asyncpg.Pool:
        """The connection pool (after :meth:`open`)."""
        if self._pool is None:
            msg = "the sink is not open"
            raise RuntimeError(msg)
        return self._pool

    async def open(self) -> None:
        """Create the pool, the schema and the checkpoint table."""
        if self._pool is not None:
            return
        try:
            import asyncpg  # noqa: PLC0415 - the optional extra
        except ImportError:
            raise ImportError(_HINT) from None
        self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=self._max)
        async with self.pool.acquire() as conn:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(self.schema)}")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self._t(CHECKPOINTS)} (account text NOT NULL, "
                "resource text NOT NULL, checkpoint jsonb NOT NULL, PRIMARY KEY (account, resource))"
            )

    async def aclose(self) -> None:
        """Close the pool."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    def lease(self, account: str, resource: ResourceSync) -> AbstractAsyncContextManager[None]:
        """A session advisory lock on (account, resource), held on its own connection."""
        return self._lease(account, resource)

    @contextlib.asynccontextmanager
    async def _lease(self, account: str, resource: ResourceSync) -> AsyncIterator[None]:
        key = _lock_key(account, resource.name)
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                msg = "another worker is syncing this resource (advisory lock held)"
                raise LeaseHeldError(msg)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", key)

    async def _ensure(self, conn: Any, resource: ResourceSync) -> str:
        table = self._t(resource.name)
        if resource.name in self._tables:
            return table
        cols = "".join(f", {_q(c.name)} {'bigint' if c.type == 'int' else 'text'}" for c in resource.columns)
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (account text NOT NULL, id bigint NOT NULL, "
            f"data jsonb NOT NULL, synced_at timestamptz NOT NULL DEFAULT now(){cols}, "
            "PRIMARY KEY (account, id))"
        )
        for c in resource.columns:
            index = _q(f"{resource.name}_{c.name}")
            await conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({_q(c.name)})")
        self._tables.add(resource.name)
        return table

    async def checkpoint(self, account: str, resource: ResourceSync) -> Checkpoint:
        """The stored checkpoint of (account, resource)."""
        text = await self.pool.fetchval(
            f"SELECT checkpoint::text FROM {self._t(CHECKPOINTS)} WHERE account = $1 AND resource = $2",
            account,
            resource.name,
        )
        return Checkpoint.from_json(text)

    async def ids(self, account: str, resource: ResourceSync) -> set[int]:
        """Every mirrored id of (account, resource)."""
        async with self.pool.acquire() as conn:
            table = await self._ensure(conn, resource)
            return {r[0] for r in await conn.fetch(f"SELECT id FROM {table} WHERE account = $1", account)}

    async def commit(self, account: str, resource: ResourceSync, batch: Batch) -> WriteCounts:
        """Apply ``batch`` in one transaction."""
        inserted = updated = deleted = 0
        async with self.pool.acquire() as conn:
            table = await self._ensure(conn, resource)
            async with conn.transaction():
                if batch.upserts:
                    inserted, updated = await self._upsert(conn, table, account, resource, batch)
                if batch.deletes:
                    gone = await conn.fetch(
                        f"DELETE FROM {table} WHERE account = $1 AND id = ANY($2::bigint[]) RETURNING id",
                        account,
                        list(batch.deletes),
                    )
                    deleted = len(gone)
                if batch.checkpoint is not None:
                    await conn.execute(
                        f"INSERT INTO {self._t(CHECKPOINTS)} (account, resource, checkpoint) "
                        "VALUES ($1, $2, $3::jsonb) ON CONFLICT (account, resource) "
                        "DO UPDATE SET checkpoint = excluded.checkpoint",
                        account,
                        resource.name,
                        batch.checkpoint.to_json(),
                    )
        unchanged = len(batch.upserts) - inserted - updated
        return WriteCounts(inserted=inserted, updated=updated, deleted=deleted, unchanged=unchanged)

    async def _upsert(
        self, conn: Any, table: str, account: str, resource: ResourceSync, batch: Batch
    ) -> tuple[int, int]:
        names = [c.name for c in resource.columns]
        types = ["bigint" if c.type == "int" else "text" for c in resource.columns]
        cols = "".join(f", {_q(n)}" for n in names)
        unnest = "".join(f", ${i + 4}::{t}[]" for i, t in enumerate(types))
        aliases = "".join(f", c{i}" for i in range(len(names)))
        sets = "".join(f", {_q(n)} = excluded.{_q(n)}" for n in names)
        query = (
            f"INSERT INTO {table} AS t (account, id, data{cols}) "
            f"SELECT $1, u.id, u.data::jsonb{''.join(f', u.c{i}' for i in range(len(names)))} "
            f"FROM unnest($2::bigint[], $3::text[]{unnest}) AS u(id, data{aliases}) "
            f"ON CONFLICT (account, id) DO UPDATE SET data = excluded.data, synced_at = now(){sets} "
            "WHERE t.data IS DISTINCT FROM excluded.data RETURNING (xmax = 0) AS inserted"
        )
        columns = [
            [_column(row.columns.get(n), t) for row in batch.upserts]
            for n, t in zip(names, types, strict=True)
        ]
        rows = await conn.fetch(
            query, account, [row.id for row in batch.upserts], [row.data for row in batch.upserts], *columns
        )
        inserted = sum(1 for r in rows if r["inserted"])
        return inserted, len(rows) - inserted


def _column(value: object, kind: str) -> object:
    if value is None:
        return None
    return (
        int(value) if kind == "bigint" and isinstance(value, int) else str(value) if kind == "text" else None
    )
