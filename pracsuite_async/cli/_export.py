"""The export engine behind ``pracsuite export`` and ``pracsuite demo``.

It finds the listable resources in :data:`~pracsuite_async.OPERATIONS`, turns
``--since`` into a filter, streams a :class:`~pracsuite_async.Pager` page by page
into an atomic JSONL, JSON or CSV file and keeps a rich progress bar up to date.
Records never reach the terminal: only counts, rates and file names are shown.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

import attrs
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from pracsuite_async import OPERATIONS, ClientStats, F, Filter, Pager, PracSuiteClient
from pracsuite_async import to_dict as unstructure
from pracsuite_async._endpoints import Endpoint, FilterField

__all__ = [
    "ExportProgress",
    "ExportResult",
    "Format",
    "CommandLineError",
    "OutputError",
    "atomic_output",
    "check_output",
    "listable_resources",
    "output_format",
    "progress_console",
    "resolve_resource",
    "run_export",
    "since_filter",
]

Format = Literal["jsonl", "json", "csv"]

#: Output formats by file extension (``.json`` is one JSON array, ``.jsonl`` one record per line).
FORMATS: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}
_FORMAT_NAMES: dict[str, Format] = {"jsonl": "jsonl", "json": "json", "csv": "csv"}

#: Timestamp fields ``--since`` filters on, best first: the last change, else creation.
SINCE_FIELDS = ("updated", "modified", "created")


class CommandLineError(Exception):
    """Bad command-line input found by the CLI itself; exits with status 2."""


class OutputError(CommandLineError):
    """The ``--out`` file cannot be written (missing directory, no permission, not a file).

    The message names the path the user gave, never the temporary file beside it.
    """

    def __init__(self, path: Path, reason: str) -> None:
        """Say why ``path`` cannot be written."""
        super().__init__(f"--out: cannot write {path}: {reason}")


def output_format(path: Path, fmt: str | None) -> Format:
    """The format to write ``path`` in: the one its extension names, else ``fmt`` (``--format``).

    Raises:
        CommandLineError: the extension is unknown and no ``fmt`` was given, or
            ``fmt`` contradicts the extension.
    """
    by_extension = FORMATS.get(path.suffix.lower())
    known = ".jsonl, .json or .csv"
    if fmt is None:
        if by_extension is None:
            what = f"the file type {path.suffix.lower()!r}" if path.suffix else "a file without an extension"
            msg = f"--out: cannot write {what}; name a {known} file, or pass --format"
            raise CommandLineError(msg)
        return by_extension
    if by_extension is not None and by_extension != fmt:
        msg = f"--format {fmt} contradicts the {path.suffix.lower()} extension of --out"
        raise CommandLineError(msg)
    named = _FORMAT_NAMES.get(fmt)
    if named is None:
        msg = f"--format must be one of: {', '.join(_FORMAT_NAMES)}"
        raise CommandLineError(msg)
    return named


def check_output(path: Path) -> None:
    """Refuse an ``--out`` path that cannot be written, before any request is sent.

    Raises:
        OutputError: its directory does not exist, or the path is a directory.
    """
    if path.is_dir():
        raise OutputError(path, "it is a directory")
    if not path.parent.is_dir():
        raise OutputError(path, f"the directory {path.parent} does not exist")


@attrs.frozen
class ExportResult:
    """What one export did: records and pages written, time taken, the client's counters."""

    records: int
    pages: int
    elapsed: float
    total_entries: int | None
    stats: ClientStats


def _needs_arguments(endpoint: Endpoint[Any]) -> bool:
    """Whether the list call has required query parameters, so it cannot be exported bare."""
    query = endpoint.query
    if query is None or not attrs.has(query):
        return False
    return any(f.default is attrs.NOTHING for f in attrs.fields(query) if f.init)


def listable_resources() -> dict[str, Endpoint[Any]]:
    """Every resource a plain ``list()`` can walk, by namespace, sorted by name.

    A resource qualifies when its namespace has a paginated ``list`` operation
    without path parameters or required query parameters.
    """
    found = {
        ep.namespace: ep
        for ep in OPERATIONS.values()
        if ep.method_name == "list"
        and ep.paginated
        and not ep.path_params
        and ep.result is not None
        and not _needs_arguments(ep)
    }
    return dict(sorted(found.items()))


def resolve_resource(name: str) -> Endpoint[Any]:
    """The list operation of resource ``name`` (``appointments``; ``-`` may replace ``_``).

    Raises:
        CommandLineError: no such listable resource; the message lists the valid ones.
    """
    resources = listable_resources()
    endpoint = resources.get(name.strip().lower().replace("-", "_"))
    if endpoint is None:
        # The name is echoed only when it looks like one: it came from the command line.
        shown = repr(name) if name.replace("-", "_").isidentifier() else "resource"
        msg = f"unknown {shown}; choose one of: {', '.join(resources)}"
        raise CommandLineError(msg)
    return endpoint


def _since_ok(field: FilterField) -> bool:
    return field.kind in {"timestamp", "datetime"} and (not field.operators or ">=" in field.operators)


def since_filter(endpoint: Endpoint[Any], text: str) -> Filter:
    """A ``>=`` filter on the endpoint's ``updated``/``modified``/``created`` field.

    A naive ``text`` is read as UTC for timestamp fields (they are UTC on the wire);
    a date alone means midnight.

    Raises:
        CommandLineError: the resource has no such field, or ``text`` is not ISO 8601.
    """
    field = next((f for name in SINCE_FIELDS if (f := endpoint.filters.get(name)) and _since_ok(f)), None)
    if field is None:
        msg = f"--since needs an updated, modified or created time filter; {endpoint.namespace} has none"
        raise CommandLineError(msg)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        msg = "--since must be an ISO 8601 timestamp such as 2025-01-31T00:00:00Z"
        raise CommandLineError(msg) from None
    if field.kind == "timestamp":
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when
    elif when.tzinfo is not None:
        msg = f"--since: {field.name} is in the clinic's local time; give a time without an offset"
        raise CommandLineError(msg)
    return F(field.name) >= when


# ---------------------------------------------------------------------------- output files


def _json_default(value: object) -> object:
    # Decimal and friends: the converter's wire form is JSON already, this is a safety net.
    return str(value)


def _dumps(row: Mapping[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _cell(value: object) -> object:
    """A CSV cell: scalars as they are, ``null`` empty, nested values JSON-encoded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return value


class _JsonlSink:
    """One record per line, written as it arrives."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self._stream.writelines(_dumps(row) + "\n" for row in rows)

    def finish(self) -> None:
        """Nothing to do: every line is final when written."""


class _JsonArraySink:
    """One JSON array, written a page at a time; a record per line keeps it readable and greppable."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._separator = "[\n"

    def write(self, rows: Iterable[Mapping[str, Any]]) -> None:
        chunk = ",\n".join(_dumps(row) for row in rows)
        if chunk:
            self._stream.write(self._separator + chunk)
            self._separator = ",\n"

    def finish(self) -> None:
        """Close the array (an export without records is ``[]``)."""
        self._stream.write("[]\n" if self._separator == "[\n" else "\n]\n")


class _CsvSink:
    """Records are spooled as JSON lines; the CSV is written at the end.

    The header is the union of every record's top-level fields (the model's fields
    in wire order, then unknown ones as first seen), which is only known once every
    record has been read; spooling keeps memory flat however large the export.
    """

    def __init__(self, stream: IO[str], spool: IO[str]) -> None:
        self._stream = stream
        self._spool = spool
        self._columns: dict[str, None] = {}

    def write(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self._columns.update(dict.fromkeys(row))
            self._spool.write(_dumps(row) + "\n")

    def finish(self) -> None:
        self._spool.flush()
        self._spool.seek(0)
        writer = csv.DictWriter(self._stream, fieldnames=list(self._columns), restval="")
        writer.writeheader()
        for line in self._spool:
            row = json.loads(line)
            writer.writerow({key: _cell(value) for key, value in row.items()})


Sink = _JsonlSink | _JsonArraySink | _CsvSink


def _reason(exc: OSError) -> str:
    # strerror alone: str(exc) would name the temporary file, which the user never chose.
    return (exc.strerror or type(exc).__name__).lower()


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


@contextlib.contextmanager
def atomic_output(path: Path, fmt: Format) -> Iterator[Sink]:
    """Write ``path`` through a temporary file in the same directory, renamed over it on success.

    An interrupted or failed export removes its temporary file, so ``path`` is
    either the complete export or whatever was there before. The file is created
    readable by its owner only (``mkstemp``), which suits patient data.

    Raises:
        OutputError: the file cannot be created or renamed into place; the message
            names ``path``, not the temporary file.
    """
    directory = path.parent
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise OutputError(path, _reason(exc)) from None
    spool_name: str | None = None
    try:
        # newline="": the csv module writes its own line endings.
        with open(fd, "w", encoding="utf-8", newline="") as stream:
            if fmt == "csv":
                spool_fd, spool_name = tempfile.mkstemp(
                    dir=directory, prefix=f".{path.name}.", suffix=".spool"
                )
                with open(spool_fd, "w+", encoding="utf-8") as spool:
                    sink: Sink = _CsvSink(stream, spool)
                    yield sink
                    sink.finish()
            else:
                sink = _JsonArraySink(stream) if fmt == "json" else _JsonlSink(stream)
                yield sink
                sink.finish()
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        # BaseException: Ctrl-C and task cancellation must not leave the part file behind.
        _unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in {tmp, spool_name}:
            raise OutputError(path, _reason(exc)) from None
        raise
    finally:
        if spool_name is not None:
            _unlink(spool_name)


# ---------------------------------------------------------------------------- progress


def progress_console() -> Console:
    """The stderr console progress is drawn on; wide enough for one line when it is a log file."""
    console = Console(stderr=True)
    if not console.is_terminal:
        # rich assumes 80 columns off a terminal; the bar's final line would be cut short.
        console = Console(stderr=True, width=max(console.width, 132))
    return console


class ExportProgress:
    """A live progress bar: records of total, pages, request rate, limiter wait, retries, ETA.

    The request rate and the limiter wait are current figures, over the last
    :attr:`RATE_WINDOW` seconds: ``limiter wait 0.8s/req`` is how long each request
    sent in that window waited for the rate limiter, on average (the client's
    ``stats.rate_limit_wait`` is the sum over all requests, which grows far faster
    than the clock when many requests wait at once).

    It draws on ``console`` (stderr by default) and redraws in place on a terminal;
    elsewhere rich prints only the final state, so logs get one line, not one per page.
    """

    #: Seconds of history behind the request-rate and limiter-wait figures.
    RATE_WINDOW = 5.0

    def __init__(
        self,
        console: Console,
        description: str,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("{task.fields[pages]} pages"),
            TextColumn("{task.fields[rate]:5.1f} req/s"),
            TextColumn("limiter wait {task.fields[wait]:.2f}s/req"),
            TextColumn("{task.fields[retries]} retries"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled,
        )
        self._task: TaskID = self._progress.add_task(
            description, total=None, pages=0, rate=0.0, wait=0.0, retries=0
        )
        #: (monotonic time, requests sent, summed limiter wait) at each update.
        self._samples: deque[tuple[float, int, float]] = deque()
        self._wait = 0.0
        self._clock = clock

    def __enter__(self) -> ExportProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def _window(self, stats: ClientStats) -> tuple[float, float]:
        """Requests per second and mean limiter wait per request over the last window."""
        now = self._clock()
        samples = self._samples
        samples.append((now, stats.requests_sent, stats.rate_limit_wait))
        while len(samples) > 2 and now - samples[0][0] > self.RATE_WINDOW:
            samples.popleft()
        (t0, n0, w0), (t1, n1, w1) = samples[0], samples[-1]
        if n1 > n0:
            # No request in the window (a long 429 pause) keeps the last figure, not 0.
            self._wait = (w1 - w0) / (n1 - n0)
        return ((n1 - n0) / (t1 - t0) if t1 > t0 else 0.0), self._wait

    def update(self, *, records: int, pages: int, total: int | None, stats: ClientStats) -> None:
        """Show the latest counts; ``total`` (``total_entries``) sizes the bar and the ETA."""
        rate, wait = self._window(stats)
        self._progress.update(
            self._task,
            completed=records,
            total=total,
            pages=pages,
            rate=rate,
            wait=wait,
            retries=stats.retries,
        )


async def run_export(
    client: PracSuiteClient, pager: Pager[Any], sink: Sink, progress: ExportProgress
) -> ExportResult:
    """Walk ``pager`` page by page into ``sink``, updating ``progress`` after each page."""
    started = time.monotonic()
    records = pages = 0
    walk = pager.pages()
    try:
        async for page in walk:
            # Synchronous writes on purpose: a page is ~100 kB to a local file, far
            # quicker than the next page's request, and it keeps the writer simple.
            sink.write(unstructure(item) for item in page.items)
            records += len(page.items)
            pages += 1
            progress.update(records=records, pages=pages, total=pager.total_entries, stats=client.stats)
    finally:
        # Close the walk here, not at garbage collection, so no page fetch outlives the export.
        aclose = getattr(walk, "aclose", None)
        if aclose is not None:
            await aclose()
    return ExportResult(
        records=records,
        pages=pages,
        elapsed=time.monotonic() - started,
        total_entries=pager.total_entries,
        stats=client.stats,
    )
