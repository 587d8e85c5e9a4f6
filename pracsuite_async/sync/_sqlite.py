"""The default sink: one SQLite file (stdlib ``sqlite3`` on one worker thread).

One table per resource, primary key ``(account, id)``, the record's JSON in ``data``
plus the resource's indexed columns; checkpoints in ``_pracsuite_checkpoints``,
written in the same transaction as the rows they cover. Leases are ``flock``s on
files beside the database (``<db>.leases/``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TypeVar

from pracsuite_async.sync._sink import Batch, Checkpoint, WriteCounts, file_lease, safe_name
from pracsuite_async.sync._specs import ResourceSync

__all__ = ["SqliteSink"]

T = TypeVar("T")

CHECKPOINTS = "_pracsuite_checkpoints"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteSink:
    """Mirror into a SQLite database file (created if missing).

    Each resource gets a table named after it: ``account``, ``id``, ``data`` (the
    record's JSON, without list-position fields), ``synced_at`` and the resource's
    indexed columns (``appointments``: ``client_id``, ``practitioner_id``,
    ``business_id``, ``app_time``). Query it with ``json_extract(data, '$.field')``.

    Args:
        path: The database file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path: Path = Path(path)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._tables: set[str] = set()

    def __repr__(self) -> str:
        return f"SqliteSink({str(self.path)!r})"

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        # One thread owns the connection; calls queue in order, so a cancelled caller
        # can never leave two statements racing on it.
        conn, executor = self._conn, self._executor
        if conn is None or executor is None:
            msg = "the sink is not open"
            raise RuntimeError(msg)
        return await asyncio.get_running_loop().run_in_executor(executor, fn, conn)

    async def open(self) -> None:
        """Open (or create) the database in WAL mode."""
        if self._conn is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pracsuite-sqlite")

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (account TEXT NOT NULL, resource TEXT NOT NULL, "
                "checkpoint TEXT NOT NULL, PRIMARY KEY (account, resource))"
            )
            return conn

        self._conn = await asyncio.get_running_loop().run_in_executor(self._executor, connect)

    async def aclose(self) -> None:
        """Close the database."""
        conn, executor = self._conn, self._executor
        if conn is None or executor is None:
            return
        await asyncio.get_running_loop().run_in_executor(executor, conn.close)
        self._conn = self._executor = None
        executor.shutdown(wait=True)

    def lease(self, account: str, resource: ResourceSync) -> AbstractAsyncContextManager[None]:
        """An exclusive file lock per (account, resource) in ``<db>.leases/``."""
        return file_lease(
            self.path.with_name(self.path.name + ".leases") / f"{safe_name(account, resource)}.lock"
        )

    def _ensure(self, conn: sqlite3.Connection, resource: ResourceSync) -> str:
        table = _q(resource.name)
        if resource.name in self._tables:
            return table
        cols = "".join(f", {_q(c.name)} {'INTEGER' if c.type == 'int' else 'TEXT'}" for c in resource.columns)
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (account TEXT NOT NULL, id INTEGER NOT NULL, "
            f"data TEXT NOT NULL, synced_at TEXT NOT NULL{cols}, PRIMARY KEY (account, id))"
        )
        for c in resource.columns:
            conn.execute(
                f"CREATE INDEX IF NOT EXISTS {_q(f'{resource.name}_{c.name}')} ON {table} ({_q(c.name)})"
            )
        self._tables.add(resource.name)
        return table

    async def checkpoint(self, account: str, resource: ResourceSync) -> Checkpoint:
        """The stored checkpoint of (account, resource)."""

        def read(conn: sqlite3.Connection) -> Checkpoint:
            row = conn.execute(
                f"SELECT checkpoint FROM {CHECKPOINTS} WHERE account = ? AND resource = ?",
                (account, resource.name),
            ).fetchone()
            return Checkpoint.from_json(row[0] if row else None)

        return await self._run(read)

    async def ids(self, account: str, resource: ResourceSync) -> set[int]:
        """Every mirrored id of (account, resource)."""

        def read(conn: sqlite3.Connection) -> set[int]:
            table = self._ensure(conn, resource)
            return {r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE account = ?", (account,))}

        return await self._run(read)

    async def commit(self, account: str, resource: ResourceSync, batch: Batch) -> WriteCounts:
        """Apply ``batch`` in one ``BEGIN IMMEDIATE`` transaction."""
        return await self._run(lambda conn: self._commit(conn, account, resource, batch))

    def _commit(
        self, conn: sqlite3.Connection, account: str, resource: ResourceSync, batch: Batch
    ) -> WriteCounts:
        table = self._ensure(conn, resource)
        names = [c.name for c in resource.columns]
        cols = "".join(f", {_q(n)}" for n in names)
        marks = ", ?" * len(names)
        sets = "".join(f", {_q(n)} = excluded.{_q(n)}" for n in names)
        upsert = (
            f"INSERT INTO {table} (account, id, data, synced_at{cols}) "
            f"VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'){marks}) "
            "ON CONFLICT (account, id) DO UPDATE SET data = excluded.data, "
            f"synced_at = excluded.synced_at{sets} "
            "WHERE data IS NOT excluded.data"
        )
        inserted = updated = unchanged = deleted = 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            ids = [row.id for row in batch.upserts]
            existing: set[int] = set()
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                existing.update(
                    r[0]
                    for r in conn.execute(
                        f"SELECT id FROM {table} WHERE account = ? AND id IN ({','.join('?' * len(chunk))})",
                        (account, *chunk),
                    )
                )
            for row in batch.upserts:
                changed = conn.execute(
                    upsert, (account, row.id, row.data, *(row.columns.get(n) for n in names))
                ).rowcount
                if not changed:
                    unchanged += 1
                elif row.id in existing:
                    updated += 1
                else:
                    inserted += 1
                    existing.add(row.id)
            for rid in batch.deletes:
                deleted += conn.execute(
                    f"DELETE FROM {table} WHERE account = ? AND id = ?", (account, rid)
                ).rowcount
            if batch.checkpoint is not None:
                conn.execute(
                    f"INSERT INTO {CHECKPOINTS} (account, resource, checkpoint) VALUES (?, ?, ?) "
                    "ON CONFLICT (account, resource) DO UPDATE SET checkpoint = excluded.checkpoint",
                    (account, resource.name, batch.checkpoint.to_json()),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return WriteCounts(inserted=inserted, updated=updated, deleted=deleted, unchanged=unchanged)
