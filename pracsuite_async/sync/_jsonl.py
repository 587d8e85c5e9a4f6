"""JSONL files: one ``<resource>.jsonl`` per resource, rewritten whole when a resource's sync ends.

While a resource syncs, every commit is one line appended (and fsynced) to its
journal, ``.sync/<resource>-<hash>.journal``: rows, deletions and checkpoint in one
JSON line, so a commit is atomic (a line torn by a crash is discarded when the
journal is replayed). When the lease is released the journal is folded into the
snapshot, written to a temporary file and renamed over ``<resource>.jsonl``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import attrs

from pracsuite_async.sync._sink import Batch, Checkpoint, WriteCounts, file_lease, safe_name
from pracsuite_async.sync._specs import ResourceSync

__all__ = ["JsonlSink"]


@attrs.define
class _State:
    rows: dict[int, str]
    checkpoint: Checkpoint
    journal: Path
    snapshot: Path
    checkpoint_file: Path


class JsonlSink:
    """Mirror into JSON Lines files in a directory: one record per line, sorted by id.

    Account ``"default"`` writes ``DIR/<resource>.jsonl``; any other account gets
    its own subdirectory. Bookkeeping (journals, checkpoints, leases) lives in
    ``DIR/.sync/``. The whole resource is held in memory while it syncs.

    Args:
        directory: Where the files go (created if missing).
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory: Path = Path(directory)
        self._states: dict[tuple[str, str], _State] = {}

    def __repr__(self) -> str:
        return f"JsonlSink({str(self.directory)!r})"

    async def open(self) -> None:
        """Create the directory."""
        self.directory.mkdir(parents=True, exist_ok=True)

    async def aclose(self) -> None:
        """Fold any journal still open into its snapshot."""
        for state in list(self._states.values()):
            await asyncio.to_thread(_fold, state)
        self._states.clear()

    def _paths(self, account: str, resource: ResourceSync) -> tuple[Path, Path, Path]:
        base = self.directory if account == "default" else self.directory / safe_name(account, resource)
        meta = self.directory / ".sync" / safe_name(account, resource)
        return base / f"{resource.name}.jsonl", meta.with_suffix(".journal"), meta.with_suffix(".checkpoint")

    def lease(self, account: str, resource: ResourceSync) -> AbstractAsyncContextManager[None]:
        """An exclusive file lock per (account, resource); the journal is folded on release."""
        return self._lease(account, resource)

    @contextlib.asynccontextmanager
    async def _lease(self, account: str, resource: ResourceSync) -> AsyncIterator[None]:
        async with file_lease(self.directory / ".sync" / f"{safe_name(account, resource)}.lock"):
            try:
                yield
            finally:
                state = self._states.pop((account, resource.name), None)
                if state is not None:
                    await asyncio.to_thread(_fold, state)

    async def _state(self, account: str, resource: ResourceSync) -> _State:
        key = (account, resource.name)
        state = self._states.get(key)
        if state is None:
            snapshot, journal, checkpoint = self._paths(account, resource)
            state = self._states[key] = await asyncio.to_thread(
                _load, snapshot, journal, checkpoint, resource.id_field
            )
        return state

    async def checkpoint(self, account: str, resource: ResourceSync) -> Checkpoint:
        """The checkpoint after replaying the journal."""
        return (await self._state(account, resource)).checkpoint

    async def ids(self, account: str, resource: ResourceSync) -> set[int]:
        """Every mirrored id."""
        return set((await self._state(account, resource)).rows)

    async def commit(self, account: str, resource: ResourceSync, batch: Batch) -> WriteCounts:
        """Append the batch as one fsynced journal line, then apply it in memory."""
        state = await self._state(account, resource)
        entry: dict[str, Any] = {
            "upserts": [json.loads(row.data) for row in batch.upserts],
            "deletes": list(batch.deletes),
        }
        if batch.checkpoint is not None:
            entry["checkpoint"] = json.loads(batch.checkpoint.to_json())
        line = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
        await asyncio.to_thread(_append, state.journal, line)
        inserted = updated = unchanged = deleted = 0
        for row in batch.upserts:
            old = state.rows.get(row.id)
            if old is None:
                inserted += 1
            elif old == row.data:
                unchanged += 1
            else:
                updated += 1
            state.rows[row.id] = row.data
        for rid in batch.deletes:
            deleted += state.rows.pop(rid, None) is not None
        if batch.checkpoint is not None:
            state.checkpoint = batch.checkpoint
        return WriteCounts(inserted=inserted, updated=updated, deleted=deleted, unchanged=unchanged)


def _dumps(data: object) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as stream:
        stream.write(line)
        stream.flush()
        os.fsync(stream.fileno())


def _load(snapshot: Path, journal: Path, checkpoint: Path, id_field: str) -> _State:
    rows: dict[int, str] = {}
    if snapshot.exists():
        with snapshot.open(encoding="utf-8") as stream:
            for line in stream:
                data = json.loads(line)
                rows[int(data[id_field])] = _dumps(data)
    cp = Checkpoint.from_json(checkpoint.read_text(encoding="utf-8") if checkpoint.exists() else None)
    if journal.exists():
        good = 0
        with journal.open("rb") as stream:
            for raw in stream:
                try:
                    entry = json.loads(raw)
                except ValueError:
                    break  # a line torn by a crash: its commit never happened
                good += len(raw)
                for data in entry["upserts"]:
                    rows[int(data[id_field])] = _dumps(data)
                for rid in entry["deletes"]:
                    rows.pop(int(rid), None)
                if "checkpoint" in entry:
                    cp = Checkpoint.from_json(_dumps(entry["checkpoint"]))
        with journal.open("r+b") as stream:
            stream.truncate(good)
    return _State(rows, cp, journal, snapshot, checkpoint)


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    tmp.replace(path)


def _fold(state: _State) -> None:
    # Snapshot and checkpoint first, journal last: a crash in between replays a journal
    # whose effects the snapshot already holds, which changes nothing.
    _replace(state.snapshot, "".join(state.rows[rid] + "\n" for rid in sorted(state.rows)))
    _replace(state.checkpoint_file, state.checkpoint.to_json())
    state.journal.unlink(missing_ok=True)
