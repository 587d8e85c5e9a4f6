"""The sink protocol and the values it exchanges with the engine, plus the file lease.

A sink stores rows and checkpoints. Its one rule: :meth:`Sink.commit` applies a
:class:`Batch` (upserts, deletes and the checkpoint that covers them) atomically, so a
crash leaves either all of it or none of it, and the checkpoint never gets ahead
of the rows.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from pracsuite_async.sync._specs import ResourceSync

__all__ = ["Batch", "Checkpoint", "LeaseHeldError", "Row", "Sink", "WriteCounts", "file_lease"]


class LeaseHeldError(RuntimeError):
    """Raised when another worker holds the lease of the same (account, resource)."""


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


@attrs.frozen
class Checkpoint:
    """Where a resource's sync stands, stored in the sink with the rows it covers.

    Attributes:
        since: Every record whose change marker is earlier is in the mirror; the next
            run asks for changes from here (less the overlap). ``None``: start over.
        deletions_since: The same for the deletion feed.
        reconciled: When the last complete full walk ended (it also removed rows the
            API no longer lists); ``None`` before the first.
    """

    since: datetime | None = None
    deletions_since: datetime | None = None
    reconciled: datetime | None = None

    def to_json(self) -> str:
        """The checkpoint as a JSON string (ISO 8601 times)."""
        return json.dumps(
            {
                "since": _ts(self.since),
                "deletions_since": _ts(self.deletions_since),
                "reconciled": _ts(self.reconciled),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> Checkpoint:
        """Parse :meth:`to_json` output; ``None`` or an empty object is a fresh start."""
        data: Any = json.loads(text) if text else {}
        return cls(
            _parse(data.get("since")), _parse(data.get("deletions_since")), _parse(data.get("reconciled"))
        )


@attrs.frozen
class Row:
    """One record as stored: its id, canonical JSON and the resource's indexed column values."""

    id: int
    data: str
    columns: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Batch:
    """What one :meth:`Sink.commit` applies atomically.

    Attributes:
        upserts: Rows to insert or replace (a row equal to the stored one is left alone).
        deletes: Ids to remove.
        checkpoint: The checkpoint to store with them; ``None`` keeps the stored one.
    """

    upserts: Sequence[Row] = ()
    deletes: Sequence[int] = ()
    checkpoint: Checkpoint | None = None


@attrs.frozen
class WriteCounts:
    """What a commit changed: rows inserted, updated (content differed), deleted, and left unchanged."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0


@runtime_checkable
class Sink(Protocol):
    """A store for mirrored rows and their checkpoints (SQLite, JSONL, PostgreSQL or your own).

    The engine calls :meth:`open` once, then per resource :meth:`lease`,
    :meth:`checkpoint`, any number of :meth:`commit` and possibly :meth:`ids`, then
    :meth:`aclose`.
    """

    async def open(self) -> None:
        """Connect and create what is missing; idempotent."""

    async def aclose(self) -> None:
        """Release connections and files; idempotent."""

    def lease(self, account: str, resource: ResourceSync) -> AbstractAsyncContextManager[None]:
        """Hold the exclusive right to sync (account, resource) for the ``async with`` block.

        Raises:
            LeaseHeldError: another worker holds it.
        """
        ...

    async def checkpoint(self, account: str, resource: ResourceSync) -> Checkpoint:
        """The stored checkpoint, or a fresh ``Checkpoint()``."""
        ...

    async def commit(self, account: str, resource: ResourceSync, batch: Batch) -> WriteCounts:
        """Apply ``batch`` (rows and checkpoint) in one transaction."""
        ...

    async def ids(self, account: str, resource: ResourceSync) -> set[int]:
        """Every id the mirror holds for (account, resource)."""
        ...


def safe_name(account: str, resource: ResourceSync) -> str:
    """A file-name-safe, collision-free token for (account, resource)."""
    digest = hashlib.sha256(f"{account}\0{resource.name}".encode()).hexdigest()[:16]
    return f"{resource.name}-{digest}"


@contextlib.asynccontextmanager
async def file_lease(path: Path) -> AsyncIterator[None]:
    """Hold an exclusive, non-blocking ``flock`` on ``path`` for the block.

    The kernel drops the lock when the process dies, even on ``SIGKILL``, so a
    crashed worker never leaves a stale lease behind.

    Raises:
        LeaseHeldError: another open file (any process) holds the lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            msg = f"another worker is syncing this resource (lease {path.name})"
            raise LeaseHeldError(msg) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
