"""``pracsuite sync`` and ``pracsuite demo --sync``: incremental mirrors from the command line.

Both drive :func:`pracsuite_async.sync.sync` with a live progress bar per resource
and print one summary (fetched, inserted, updated, deleted, requests, 429s). Only
counts and names are shown, never records.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import attrs
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from pracsuite_async import PracSuiteClient
from pracsuite_async.sync import (
    RESOURCES,
    JsonlSink,
    PostgresSink,
    ResourceResult,
    Sink,
    SqliteSink,
    SyncResult,
    sync,
)

__all__ = [
    "SyncOptions",
    "SyncProgress",
    "make_sink",
    "resolve_names",
    "run_sync",
    "run_sync_demo",
    "summary_line",
    "summary_table",
]


@attrs.frozen
class SyncOptions:
    """What ``pracsuite sync`` was asked to do, apart from where to write."""

    resources: tuple[str, ...]
    account: str = "default"
    overlap: float = 60.0
    reconcile_every: float | None = 24.0
    full: bool = False
    page_size: int = 100


def make_sink(db: Path | None, postgres: str | None, jsonl: Path | None) -> Sink:
    """The sink of exactly one of ``--db``, ``--postgres`` and ``--jsonl`` (``--db`` by default).

    Raises:
        ValueError: more than one was given.
    """
    chosen = [x for x in (db, postgres, jsonl) if x is not None]
    if len(chosen) > 1:
        msg = "give only one of --db, --postgres and --jsonl"
        raise ValueError(msg)
    if postgres is not None:
        return PostgresSink(postgres)
    if jsonl is not None:
        return JsonlSink(jsonl)
    return SqliteSink(db if db is not None else Path("mirror.sqlite"))


class SyncProgress:
    """One progress bar per resource: records of the server's count, pages, and what is walked."""

    def __init__(self, console: Console, *, enabled: bool = True) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("{task.fields[pages]} pages"),
            TextColumn("{task.fields[walk]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> SyncProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, result: ResourceResult) -> None:
        """Redraw ``result``'s bar (the engine's progress callback)."""
        task = self._tasks.get(result.resource)
        if task is None:
            task = self._tasks[result.resource] = self._progress.add_task(
                result.resource, total=None, pages=0, walk=""
            )
        self._progress.update(
            task,
            completed=result.fetched,
            total=max(result.fetched, result.total or 0) or None,
            pages=result.pages,
            walk=result.walk,
        )


def summary_table(result: SyncResult, title: str) -> Table:
    """The per-resource counts and the request totals as a rich table."""
    table = Table(title=title, title_justify="left")
    for name in ("resource", "status", "fetched", "inserted", "updated", "deleted", "unchanged"):
        table.add_column(name, justify="left" if name in ("resource", "status") else "right")
    for r in result.resources:
        table.add_row(
            r.resource,
            r.status,
            *(f"{n:,}" for n in (r.fetched, r.inserted, r.updated, r.deleted, r.unchanged)),
        )
    table.caption = (
        f"{result.requests:,} requests, {result.throttled} x 429, {result.retries} retries, "
        f"{result.elapsed:.1f} s"
    )
    return table


def summary_line(result: SyncResult) -> str:
    """The one-line summary ``pracsuite sync`` prints on stdout."""
    return (
        f"synced {len(result.resources)} resources: fetched {result.fetched}, inserted {result.inserted}, "
        f"updated {result.updated}, deleted {result.deleted}; {result.requests} requests, "
        f"{result.throttled} 429s, in {result.elapsed:.1f}s"
    )


async def run_sync(
    client: PracSuiteClient, sink: Sink, options: SyncOptions, console: Console, *, quiet: bool
) -> SyncResult:
    """Sync ``options.resources`` into ``sink`` with progress bars on ``console``."""
    reconcile = timedelta(hours=options.reconcile_every) if options.reconcile_every is not None else None
    with SyncProgress(console, enabled=not quiet) as progress:
        return await sync(
            client,
            options.resources,
            sink,
            account=options.account,
            overlap=timedelta(seconds=options.overlap),
            reconcile_every=reconcile,
            full=options.full,
            page_size=options.page_size,
            progress=progress,
        )


async def run_sync_demo(*, records: int, rate: float, db: Path | None, quiet: bool, faults: str = "") -> bool:
    """Mirror appointments and patients from a simulator twice; ``True`` when the mirror verified.

    The first run fills an SQLite mirror; the second must fetch only the overlap and
    write nothing; then the mirror's appointment ids are compared with the simulator's.
    """
    import sqlite3  # noqa: PLC0415 - only the demo reads the mirror back

    from pracsuite_async.simulator import Simulator, SimulatorConfig  # noqa: PLC0415 - loads the simulator

    console, status = Console(), Console(stderr=True)
    config = SimulatorConfig(records=records, rate=rate, faults=faults)
    with status.status(f"generating {records:,} appointments for the simulator..."):
        simulator = Simulator(config)
    resources = ("appointments", "patients")
    with tempfile.TemporaryDirectory(prefix="pracsuite-sync-demo-") as scratch:
        path = db if db is not None else Path(scratch) / "mirror.sqlite"
        async with (
            simulator,
            PracSuiteClient(
                config.vendor_keys[0], config.account_keys[0], base_url=simulator.base_url, rate_limit=rate
            ) as client,
        ):
            results = []
            for label in ("first run", "second run"):
                result = await run_sync(client, SqliteSink(path), SyncOptions(resources), status, quiet=quiet)
                console.print(summary_table(result, f"pracsuite demo --sync: {label}"))
                results.append(result)
            diary = simulator.dataset.tables["diary"]
            served = {rid for rid, rec in diary.items() if rec.get("_kind") == "appointment"}
        with sqlite3.connect(path) as conn:
            mirrored = {row[0] for row in conn.execute("SELECT id FROM appointments")}
        conn.close()
    second = results[1]
    quiet_second = second.inserted == second.updated == second.deleted == 0
    ok = mirrored == served and quiet_second and all(r.complete for r in results)
    console.print(
        f"mirror: {len(mirrored):,} appointments, simulator: {len(served):,}; "
        f"missing {len(served - mirrored)}, unexpected {len(mirrored - served)}; "
        f"second run wrote {'nothing' if quiet_second else 'rows'} "
        f"({second.fetched} records re-fetched in the overlap, {second.requests} requests): "
        + ("[bold green]OK[/]" if ok else "[bold red]FAILED[/]"),
        soft_wrap=True,
    )
    return ok


def resolve_names(names: Sequence[str]) -> tuple[str, ...]:
    """The resource names as :data:`~pracsuite_async.sync.RESOURCES` spells them (``-`` or ``_``).

    Raises:
        ValueError: a name is not a syncable resource.
    """
    resolved = tuple(name.replace("-", "_") for name in names)
    unknown = [name for name in resolved if name not in RESOURCES]
    if unknown:
        msg = f"not a syncable resource; choose from: {', '.join(sorted(RESOURCES))}"
        raise ValueError(msg)
    return resolved
