"""The sync engine: walk each resource by its change marker, commit rows with their checkpoint.

Correctness rests on three rules:

1. **A bounded window.** A run lists records whose marker lies in
   ``[since - overlap, now - overlap)``. A record changed during the walk gets a
   marker past the upper bound, so it *leaves* the listing instead of moving inside
   it; the next run's window starts at this run's upper bound and picks it up.
2. **A stable walk or no progress.** Offset pages shift when records leave, which
   can hide a record at a page boundary. Every page repeats ``total_entries``; a
   walk whose count changed stops, keeps the checkpoint of its last consistent
   page and walks again from there (``max_restarts`` times, then the next run
   continues). Deletions from a full walk are applied only when the count never
   moved and every counted id was seen.
3. **Checkpoint with the rows.** The checkpoint travels in the same
   :class:`~pracsuite_async.sync.Batch` as the rows it covers; walks sorted by the
   marker advance it page by page, others when the walk completes. Killed at any
   point, a run resumes from a checkpoint whose rows are all stored; upserts are
   idempotent, so re-fetching the overlap changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import attrs

from pracsuite_async import F, Filter, Page, PracSuiteClient, RequestValidationError, to_dict
from pracsuite_async.sync._sink import Batch, Checkpoint, LeaseHeldError, Row, Sink, WriteCounts
from pracsuite_async.sync._specs import VOLATILE_FIELDS, ResourceSync, resolve

__all__ = ["ResourceResult", "SyncResult", "sync"]

DEFAULT_OVERLAP = timedelta(seconds=60)
DEFAULT_RECONCILE_EVERY = timedelta(days=1)

Status = Literal["done", "partial", "leased"]


@attrs.define
class ResourceResult:
    """What a sync did to one resource; updated live while it runs (progress callbacks see it).

    Attributes:
        resource: The resource name.
        status: ``done``; ``partial`` (the data kept changing under the walk, so the
            checkpoint stopped at its last consistent page: the next run continues);
            ``leased`` (another worker holds this resource; nothing was done).
        fetched: Records received (overlap and re-walks included).
        inserted: Rows added to the mirror.
        updated: Rows whose content changed.
        deleted: Rows removed (deletion feed and reconcile).
        unchanged: Rows received equal to the stored ones.
        pages: Pages received.
        total: The server's count for the current walk, for progress displays.
        reconciled: A full walk ran and its deletions were applied.
        walk: What is being walked now: ``changes``, ``deletions`` or ``full``.
    """

    resource: str
    status: Status = "done"
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    pages: int = 0
    total: int | None = None
    reconciled: bool = False
    walk: str = "changes"

    def add(self, counts: WriteCounts) -> None:
        """Add one commit's counts."""
        self.inserted += counts.inserted
        self.updated += counts.updated
        self.deleted += counts.deleted
        self.unchanged += counts.unchanged


@attrs.frozen
class SyncResult:
    """The outcome of :func:`sync`: per-resource results plus the client's request counters.

    Attributes:
        resources: One :class:`ResourceResult` per resource, in the order given.
        requests: HTTP requests sent (retries included).
        throttled: 429 responses received.
        retries: Retried attempts.
        elapsed: Seconds the sync took.
    """

    resources: tuple[ResourceResult, ...]
    requests: int
    throttled: int
    retries: int
    elapsed: float

    def _sum(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.resources)

    @property
    def fetched(self) -> int:
        """Records received over all resources."""
        return self._sum("fetched")

    @property
    def inserted(self) -> int:
        """Rows inserted over all resources."""
        return self._sum("inserted")

    @property
    def updated(self) -> int:
        """Rows updated over all resources."""
        return self._sum("updated")

    @property
    def deleted(self) -> int:
        """Rows deleted over all resources."""
        return self._sum("deleted")

    @property
    def complete(self) -> bool:
        """Every resource finished (none partial or leased elsewhere)."""
        return all(r.status == "done" for r in self.resources)


Progress = Callable[[ResourceResult], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def make_row(model: object, resource: ResourceSync) -> Row:
    """The stored form of a record: canonical JSON without list-position fields, plus its columns."""
    data = {k: v for k, v in to_dict(model).items() if k not in VOLATILE_FIELDS}
    columns = {c.name: data.get(c.name) for c in resource.columns}
    return Row(int(data[resource.id_field]), json.dumps(data, sort_keys=True, separators=(",", ":")), columns)


@attrs.define
class _Walk:
    """Outcome of one walk: whether the listing held still, and the ids it saw."""

    stable: bool = True
    seen: set[int] = attrs.field(factory=set)
    total: int | None = None


@attrs.define
class _Job:
    client: PracSuiteClient
    sink: Sink
    account: str
    resource: ResourceSync
    result: ResourceResult
    overlap: timedelta
    page_size: int
    progress: Progress | None
    cp: Checkpoint = attrs.field(factory=Checkpoint)

    def pager(self, operation: ResourceSync, filters: Sequence[Filter], sort_by: Sequence[str]) -> Any:
        kwargs: dict[str, Any] = {"sort_by": list(sort_by), "page_size": self.page_size, **operation.args}
        if filters:
            kwargs["filters"] = list(filters)
        return getattr(self.client, operation.endpoint.namespace).list(**kwargs)

    def marker_sort(self) -> str | None:
        """The first marker sort the client accepts for this resource, if any."""
        r = self.resource
        for name in r.marker_sorts:
            with contextlib.suppress(RequestValidationError):
                self.pager(r, (), (name, r.id_field))  # validated now, nothing is sent
                return name
        return None

    async def commit(self, batch: Batch) -> None:
        counts = await self.sink.commit(self.account, self.resource, batch)
        self.result.add(counts)
        if batch.checkpoint is not None:
            self.cp = batch.checkpoint

    async def walk(
        self,
        operation: ResourceSync,
        filters: Sequence[Filter],
        sort_by: Sequence[str],
        on_page: Callable[[Page[Any], _Walk], Any],
    ) -> _Walk:
        """Walk a listing page by page, calling ``on_page`` while the count holds still."""
        state = _Walk()
        pager = self.pager(operation, filters, sort_by)
        id_field = operation.id_field
        first = True
        async with contextlib.aclosing(pager.pages()) as pages:
            async for page in pages:
                if first:
                    first = False
                    state.total = self.result.total = page.total_entries
                self.result.pages += 1
                self.result.fetched += len(page.items)
                if page.total_entries != state.total:
                    state.stable = False
                    break
                state.seen.update(getattr(item, id_field) for item in page.items)
                await on_page(page, state)
                if self.progress is not None:
                    self.progress(self.result)
        if state.total is not None and len(state.seen) != state.total:
            state.stable = False
        return state

    def window(self, field: str, since: datetime | None, upper: datetime) -> list[Filter]:
        filters = [F(field) < upper]
        if since is not None:
            filters.append(F(field) >= since - self.overlap)
        return filters


async def _changes(job: _Job, upper: datetime, max_restarts: int) -> bool:
    """The incremental walk; ``True`` when it completed on a stable listing."""
    r = job.resource
    assert r.marker_filter is not None  # noqa: S101 - incremental rows name their filter
    sort = job.marker_sort()
    by_marker = sort is not None and r.marker_field is not None
    for _attempt in range(max_restarts + 1):
        job.result.walk = "changes"

        async def on_page(page: Page[Any], _state: _Walk) -> None:
            rows = [make_row(item, r) for item in page.items]
            checkpoint = None
            if by_marker and rows:
                markers = [m for m in (getattr(item, str(r.marker_field)) for item in page.items) if m]
                if markers:
                    # Sorted by the marker: every record before this page's last marker is stored.
                    checkpoint = attrs.evolve(job.cp, since=max(markers))
            await job.commit(Batch(upserts=rows, checkpoint=checkpoint))

        sort_by = (sort, r.id_field) if by_marker and sort else (r.id_field,)
        walk = await job.walk(r, job.window(r.marker_filter, job.cp.since, upper), sort_by, on_page)
        if walk.stable:
            await job.commit(Batch(checkpoint=attrs.evolve(job.cp, since=upper)))
            return True
    return False


async def _deletions(job: _Job, upper: datetime, max_restarts: int) -> bool:
    """Apply the resource's deletion feed; ``True`` when the feed walk was stable."""
    feed = job.resource.deletions
    assert feed is not None  # noqa: S101 - called only for rows with a feed
    source = ResourceSync(f"{job.resource.name}:deletions", feed.operation, args=feed.args)
    for _attempt in range(max_restarts + 1):
        job.result.walk = "deletions"

        async def on_page(page: Page[Any], _state: _Walk) -> None:
            ids = [getattr(item, source.id_field) for item in page.items]
            await job.commit(Batch(deletes=ids))

        filters = job.window(feed.marker_filter, job.cp.deletions_since, upper)
        walk = await job.walk(source, filters, (source.id_field,), on_page)
        if walk.stable:
            await job.commit(Batch(checkpoint=attrs.evolve(job.cp, deletions_since=upper)))
            return True
    return False


async def _full(job: _Job, started: datetime, max_restarts: int) -> bool:
    """Walk everything, upsert it, and delete rows the API no longer lists."""
    r = job.resource
    for _attempt in range(max_restarts + 1):
        job.result.walk = "full"

        async def on_page(page: Page[Any], _state: _Walk) -> None:
            await job.commit(Batch(upserts=[make_row(item, r) for item in page.items]))

        walk = await job.walk(r, (), (r.id_field,), on_page)
        if walk.stable:
            gone = sorted(await job.sink.ids(job.account, r) - walk.seen)
            await job.commit(Batch(deletes=gone, checkpoint=attrs.evolve(job.cp, reconciled=started)))
            job.result.reconciled = True
            return True
    return False


async def _sync_one(
    job: _Job, now: datetime, *, full: bool, reconcile_every: timedelta | None, max_restarts: int
) -> None:
    r = job.resource
    job.cp = await job.sink.checkpoint(job.account, r)
    ok = True
    if r.mode == "incremental":
        upper = now - job.overlap
        if job.cp == Checkpoint():
            # A fresh mirror holds nothing that could have been deleted before this run,
            # so the deletion feed and the reconcile clock both start now.
            # Stored before any row, so a run killed mid-walk resumes with the same clocks.
            await job.commit(Batch(checkpoint=Checkpoint(deletions_since=upper, reconciled=now)))
        ok = await _changes(job, upper, max_restarts)
        if r.deletions is not None:
            ok = await _deletions(job, upper, max_restarts) and ok
        cp = job.cp
        due = cp.reconciled is None or (
            reconcile_every is not None and now - cp.reconciled >= reconcile_every
        )
        if full or due:
            ok = await _full(job, now, max_restarts) and ok
    else:
        ok = await _full(job, now, max_restarts)
    job.result.status = "done" if ok else "partial"
    job.result.walk = "done"
    if job.progress is not None:
        job.progress(job.result)


async def sync(
    client: PracSuiteClient,
    resources: Iterable[str | ResourceSync],
    sink: Sink,
    *,
    account: str = "default",
    overlap: timedelta = DEFAULT_OVERLAP,
    reconcile_every: timedelta | None = DEFAULT_RECONCILE_EVERY,
    full: bool = False,
    page_size: int = 100,
    max_restarts: int = 3,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> SyncResult:
    """Mirror ``resources`` into ``sink`` incrementally; safe to kill and re-run at any point.

    Each resource syncs as its row in :data:`~pracsuite_async.sync.RESOURCES` says:
    changes since its checkpoint (less ``overlap``), sorted explicitly and deduplicated
    by id, upserted with the checkpoint in the same sink transaction; then its
    deletion feed; then, when due, a full walk that removes rows the API no longer
    lists. Resources run one after another, each under the sink's lease for
    (``account``, resource); a resource leased by another worker is skipped
    (status ``leased``). The sink is opened and closed by this call.

    Args:
        client: The client to read with (its rate limiter paces the whole sync).
        resources: Resource names (``"appointments"``, ``"patients"``...) or rows.
        sink: Where rows and checkpoints go (:class:`~pracsuite_async.sync.SqliteSink`...).
        account: The checkpoint and lease key of the clinic being mirrored.
        overlap: How far each run looks back before the checkpoint, and how far the
            upper bound stays behind ``clock()``: covers clock skew and late commits.
            A change is picked up by the first run starting ``overlap`` after it.
        reconcile_every: How often a full walk removes rows the API stopped listing
            (``None``: only when ``full``).
        full: Force the full walk now.
        page_size: Records per request, 1..100.
        max_restarts: Walks repeated in one run while the data keeps changing under them.
        progress: Called with the live :class:`ResourceResult` after every page.
        clock: The current UTC time (tests pass a fake one).

    Returns:
        The :class:`SyncResult`.

    Raises:
        ValueError: an unknown resource name.
        PracSuiteError: a request failed after its retries; rows committed so far stay,
            and the next run resumes from their checkpoint.
    """
    rows = [resolve(r) for r in resources]
    before = client.stats
    started = time.monotonic()
    results: list[ResourceResult] = []
    bulk = client.with_options(priority="bulk")  # interactive calls sharing the budget go first
    await sink.open()
    try:
        for row in rows:
            result = ResourceResult(row.name)
            results.append(result)
            job = _Job(bulk, sink, account, row, result, overlap, page_size, progress)
            try:
                async with sink.lease(account, row):
                    await _sync_one(
                        job, clock(), full=full, reconcile_every=reconcile_every, max_restarts=max_restarts
                    )
            except LeaseHeldError:
                result.status = "leased"
    finally:
        await sink.aclose()
    after = client.stats
    return SyncResult(
        resources=tuple(results),
        requests=after.requests_sent - before.requests_sent,
        throttled=after.throttled - before.throttled,
        retries=after.retries - before.retries,
        elapsed=time.monotonic() - started,
    )
