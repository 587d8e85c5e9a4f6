"""The click application: commands, options and the mapping of errors to exit codes.

Every failure ends in one line on stderr and a documented exit status; keys and
record contents are never printed (errors of :mod:`pracsuite_async` are built
without them, and the messages written here name fields, never values).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from pracsuite_async import (
    APIStatusError,
    AuthenticationError,
    ConfigurationError,
    Endpoint,
    Filter,
    PermissionDeniedError,
    PracSuiteClient,
    PracSuiteError,
    RequestValidationError,
    __version__,
)
from pracsuite_async._config import DEFAULT_BASE_URL, ENV_ACCOUNT_KEY, ENV_VENDOR_KEY
from pracsuite_async.cli._export import (
    CommandLineError,
    ExportProgress,
    ExportResult,
    Format,
    atomic_output,
    check_output,
    output_format,
    progress_console,
    resolve_resource,
    run_export,
    since_filter,
)

__all__ = ["app"]

T = TypeVar("T")

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_INTERRUPTED = 130


def _fail(code: int, message: str) -> NoReturn:
    # One line, whatever the message holds: scripts grep stderr, and a multi-line
    # server detail must not spill into several log records.
    click.echo(f"pracsuite: error: {' '.join(message.split())}", err=True)
    raise click.exceptions.Exit(code)


def _auth_message(exc: AuthenticationError | PermissionDeniedError) -> str:
    # Built here rather than from str(exc): the server's detail text is not ours to trust.
    if isinstance(exc, AuthenticationError):
        return "authentication failed (401): the API rejected the vendor key or the account key"
    return "permission denied (403): a key is missing, or the account key may not read this resource"


_VERBOSE = "pracsuite.verbose"


def _server_text(exc: PracSuiteError) -> str:
    # The server's free text may name a patient: shown only when asked for (--verbose).
    ctx = click.get_current_context(silent=True)
    if ctx is None or not ctx.meta.get(_VERBOSE) or not isinstance(exc, APIStatusError):
        return ""
    notes = [exc.detail] if exc.detail else []
    notes += [f"{p.field}: {p.message}" for p in exc.validation if p.message]
    return f" (server: {'; '.join(notes)})" if notes else ""


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion, turning every known failure into its exit status."""
    try:
        return asyncio.run(coro)
    except CommandLineError as exc:
        _fail(EXIT_USAGE, str(exc))
    except (AuthenticationError, PermissionDeniedError) as exc:
        _fail(EXIT_AUTH, _auth_message(exc) + _server_text(exc))
    except (RequestValidationError, ConfigurationError) as exc:
        _fail(EXIT_USAGE, str(exc))
    except PracSuiteError as exc:
        _fail(EXIT_ERROR, f"{type(exc).__name__}: {exc}{_server_text(exc)}")
    except OSError as exc:
        _fail(EXIT_ERROR, f"{type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        _fail(EXIT_INTERRUPTED, "interrupted; no output file was written")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="pracsuite")
@click.option(
    "--verbose", "-v", is_flag=True,
    help="On an API error, also print the server's detail text (it may name a patient).",
)
@click.pass_context
def app(ctx: click.Context, *, verbose: bool) -> None:
    """Tools for the PracSuite API v1: export any listable resource, serve the simulator, run the demo.

    Exit status: 0 success, 1 other failure, 2 bad input, 3 authentication or
    permission failure, 130 interrupted.
    """
    ctx.meta[_VERBOSE] = verbose


# ---------------------------------------------------------------------------- export


def _check_usage(
    resource: str, out: Path, fmt: str | None, filters: Sequence[str], since: str | None
) -> tuple[Endpoint[Any], Format, list[Filter | str]]:
    endpoint = resolve_resource(resource)
    chosen = output_format(out, fmt)
    check_output(out)
    wanted: list[Filter | str] = list(filters)
    if since is not None:
        wanted.append(since_filter(endpoint, since))
    if filters and not endpoint.filters:
        msg = f"{endpoint.namespace} cannot be filtered (its list operation has no q[] fields)"
        raise CommandLineError(msg)
    return endpoint, chosen, wanted


def _require_keys(vendor_key: str | None, account_key: str | None) -> tuple[str, str]:
    if not vendor_key:
        msg = f"missing vendor key: pass --vendor-key or set {ENV_VENDOR_KEY}"
        raise CommandLineError(msg)
    if not account_key:
        msg = f"missing account key: pass --account-key or set {ENV_ACCOUNT_KEY}"
        raise CommandLineError(msg)
    return vendor_key, account_key


async def _export(
    *,
    endpoint: Endpoint[Any],
    out: Path,
    fmt: Format,
    filters: list[Filter | str],
    page_size: int,
    rate: float | None,
    base_url: str,
    vendor_key: str,
    account_key: str,
    quiet: bool,
) -> ExportResult:
    console = progress_console()
    async with PracSuiteClient(vendor_key, account_key, base_url=base_url, rate_limit=rate) as client:
        kwargs: dict[str, Any] = {"page_size": page_size}
        if filters:
            kwargs["filters"] = filters
        # Validates filters and page_size now, before a file or a request exists.
        pager = getattr(client, endpoint.namespace).list(**kwargs)
        with (
            atomic_output(out, fmt) as sink,
            ExportProgress(console, endpoint.namespace, enabled=not quiet) as progress,
        ):
            return await run_export(client, pager, sink, progress)


@app.command(short_help="Export a resource to a JSONL, JSON or CSV file, with a progress bar.")
@click.argument("resource")
@click.option(
    "--out", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (.jsonl, .json or .csv); replaced atomically when the export completes.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "json", "csv"]), default=None,
    help="Output format, for a file whose extension does not say  [default: from the extension]",
)
@click.option(
    "--filter", "filters", multiple=True, metavar="FIELD:OPVALUE",
    help="A q[] filter such as 'business_id:=5' (repeatable; all must match).",
)
@click.option("--since", metavar="ISO-TIMESTAMP", help="Only records updated (or created) since this time.")
@click.option("--page-size", type=int, default=100, show_default=True, help="Records per request, 1..100.")
@click.option(
    "--rate", type=float, default=None,
    help="Requests per second the API allows  [default: discover it, starting at 10/s]",
)
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True, help="API root URL.")
@click.option("--vendor-key", envvar=ENV_VENDOR_KEY, show_envvar=True, help="Vendor key (x-api-key).")
@click.option("--account-key", envvar=ENV_ACCOUNT_KEY, show_envvar=True, help="Clinic key (A-api-key).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def export(
    *,
    resource: str,
    out: Path,
    fmt: str | None,
    filters: tuple[str, ...],
    since: str | None,
    page_size: int,
    rate: float | None,
    base_url: str,
    vendor_key: str | None,
    account_key: str | None,
    quiet: bool,
) -> None:
    """Export every RESOURCE record (appointments, patients, ...) to a JSONL, JSON or CSV file.

    The format follows the extension of --out: .jsonl (one record per line), .json
    (one array) or .csv (one column per top-level field; nested values are
    JSON-encoded); --format names it for any other file name.
    Prefer the environment variables to the key options: command lines are visible
    to other users of the machine.
    """
    try:
        endpoint, chosen, wanted = _check_usage(resource, out, fmt, filters, since)
        vendor_key, account_key = _require_keys(vendor_key, account_key)
    except CommandLineError as exc:
        _fail(EXIT_USAGE, str(exc))
    result = run(
        _export(
            endpoint=endpoint, out=out, fmt=chosen, filters=wanted, page_size=page_size, rate=rate,
            base_url=base_url, vendor_key=vendor_key, account_key=account_key, quiet=quiet,
        )
    )
    click.echo(
        f"exported {result.records} {endpoint.namespace} ({result.pages} pages, "
        f"{result.stats.requests_sent} requests, {result.stats.retries} retries) "
        f"to {out} in {result.elapsed:.1f}s"
    )
    if result.total_entries is not None and result.total_entries != result.records:
        click.echo(
            f"note: the server counted {result.total_entries} records when the export began; "
            "records changed during the export",
            err=True,
        )


# ---------------------------------------------------------------------------- sync


async def _sync(
    *,
    sink: Any,
    options: Any,
    rate: float | None,
    base_url: str,
    vendor_key: str,
    account_key: str,
    quiet: bool,
) -> Any:
    from pracsuite_async.cli._sync import run_sync  # noqa: PLC0415 - loads the sync engine

    async with PracSuiteClient(vendor_key, account_key, base_url=base_url, rate_limit=rate) as client:
        return await run_sync(client, sink, options, progress_console(), quiet=quiet)


@app.command(name="sync", short_help="Mirror resources incrementally into SQLite, PostgreSQL or JSONL.")
@click.argument("resources", nargs=-1, required=True, metavar="RESOURCE...")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="SQLite mirror file  [default: mirror.sqlite]")
@click.option("--postgres", metavar="DSN", default=None, envvar="PRACSUITE_SYNC_POSTGRES",
              help="PostgreSQL mirror (needs the postgres extra), e.g. postgresql://user@host/db.")
@click.option("--jsonl", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory of JSONL files, one per resource.")
@click.option("--account", default="default", show_default=True,
              help="Name of the clinic in the mirror (checkpoints and leases are per account).")
@click.option("--overlap", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds each run looks back before its checkpoint (clock skew, late commits).")
@click.option("--reconcile-every", type=click.FloatRange(min=0), default=24.0, show_default=True,
              help="Hours between full walks that remove rows the API no longer lists.")
@click.option("--full", is_flag=True, help="Run the full reconcile walk now.")
@click.option("--page-size", type=click.IntRange(1, 100), default=100, show_default=True)
@click.option("--rate", type=float, default=None,
              help="Requests per second the API allows  [default: discover it, starting at 5/s]")
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True, help="API root URL.")
@click.option("--vendor-key", envvar=ENV_VENDOR_KEY, show_envvar=True, help="Vendor key (x-api-key).")
@click.option("--account-key", envvar=ENV_ACCOUNT_KEY, show_envvar=True, help="Clinic key (A-api-key).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def sync_command(
    *,
    resources: tuple[str, ...],
    db: Path | None,
    postgres: str | None,
    jsonl: Path | None,
    account: str,
    overlap: float,
    reconcile_every: float,
    full: bool,
    page_size: int,
    rate: float | None,
    base_url: str,
    vendor_key: str | None,
    account_key: str | None,
    quiet: bool,
) -> None:
    """Mirror each RESOURCE (appointments, patients, ...) incrementally; safe to kill and re-run.

    Each run fetches what changed since the last one (plus the overlap), upserts it
    with its checkpoint in one transaction, applies deletions, and every
    --reconcile-every hours walks everything to drop rows the API no longer lists.
    Workers sharing a mirror never sync the same resource at once.
    """
    from pracsuite_async.cli._sync import SyncOptions, make_sink, resolve_names, summary_line  # noqa: PLC0415

    try:
        names = resolve_names(resources)
        sink = make_sink(db, postgres, jsonl)
        vendor_key, account_key = _require_keys(vendor_key, account_key)
    except (ValueError, CommandLineError) as exc:
        _fail(EXIT_USAGE, str(exc))
    options = SyncOptions(
        names, account=account, overlap=overlap, reconcile_every=reconcile_every, full=full,
        page_size=page_size,
    )
    result = run(
        _sync(sink=sink, options=options, rate=rate, base_url=base_url, vendor_key=vendor_key,
              account_key=account_key, quiet=quiet)
    )
    click.echo(summary_line(result))
    for r in result.resources:
        if r.status == "leased":
            click.echo(f"note: {r.resource} skipped: another worker holds its lease", err=True)
        elif r.status == "partial":
            note = "kept changing during the walk; the next run continues it"
            click.echo(f"note: {r.resource} {note}", err=True)


# ---------------------------------------------------------------------------- simulator


@app.command(short_help="Serve the bundled API simulator until Ctrl-C.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--records", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Appointments to generate (other tables scale with it).")
@click.option("--rate", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Requests per second per vendor key; 0 for no limit.")
@click.option("--burst", type=click.IntRange(min=1), default=5, show_default=True, help="Token-bucket size.")
@click.option("--seed", type=int, default=0, show_default=True, help="Dataset seed.")
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Seconds added to every response.")
@click.option("--faults", default="", metavar="KIND:P,...",
              help="Injected faults, e.g. '500:0.05,503ra:0.02,reset:0.01'.")
def simulator(
    *, host: str, port: int, records: int, rate: float, burst: int, seed: int, latency: float, faults: str
) -> None:
    """Serve the bundled PracSuite API simulator until Ctrl-C."""
    from pracsuite_async.cli._demo import serve_simulator  # noqa: PLC0415 - loads the simulator

    try:
        config = _simulator_config(
            seed=seed, records=records, rate=rate or None, burst=burst, latency=latency, faults=faults
        )
    except ValueError as exc:
        _fail(EXIT_USAGE, str(exc))
    # Ctrl-C arrives as KeyboardInterrupt once asyncio.run has shut the server down; SIGTERM
    # makes serve_simulator return. Both are a normal stop.
    try:
        asyncio.run(serve_simulator(config, host, port, Console()))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        _fail(EXIT_ERROR, f"{type(exc).__name__}: {exc}")
    click.echo("simulator stopped", err=True)


def _simulator_config(**kwargs: Any) -> Any:
    from pracsuite_async.simulator import SimulatorConfig  # noqa: PLC0415 - loads the simulator

    return SimulatorConfig(**kwargs)


# ---------------------------------------------------------------------------- demo


@app.command(short_help="Export 20,000 appointments from a rate-limited simulator and verify them.")
@click.option("--records", type=click.IntRange(min=1), default=20_000, show_default=True,
              help="Appointments in the simulated clinic.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="The simulator's limit in requests per second.")
@click.option("--burst", type=click.IntRange(min=1), default=5, show_default=True,
              help="The simulator's token-bucket size.")
@click.option("--adaptive", is_flag=True,
              help="Do not tell the client the limit: it discovers it from 429s.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Keep the JSONL export here  [default: a temporary file, removed afterwards]")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--sync", "sync_mirror", is_flag=True,
              help="Mirror appointments and patients into SQLite twice (the second run writes nothing).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --sync: keep the SQLite mirror here  [default: a temporary file]")
@click.option("--faults", default="", metavar="KIND:P,...",
              help="With --sync: faults the simulator injects, e.g. '500:0.10,reset:0.02,trunc:0.01'.")
def demo(
    *,
    records: int,
    rate: float,
    burst: int,
    adaptive: bool,
    out: Path | None,
    quiet: bool,
    sync_mirror: bool,
    db: Path | None,
    faults: str,
) -> None:
    """Export every appointment from an in-process simulator, then verify the file.

    Starts a simulator enforcing RATE requests/s, walks all appointments
    concurrently through the client with a progress bar, writes JSONL, checks it
    against the simulator's data (count, duplicates, missing ids) and prints the
    achieved request rate against the limit. Exits 0 only if verification passes.
    """
    if sync_mirror:
        from pracsuite_async.cli._sync import run_sync_demo  # noqa: PLC0415 - loads the simulator

        try:
            _simulator_config(faults=faults)
        except ValueError as exc:
            _fail(EXIT_USAGE, str(exc))
        if not run(run_sync_demo(records=records, rate=rate, db=db, quiet=quiet, faults=faults)):
            raise click.exceptions.Exit(EXIT_ERROR)
        return
    from pracsuite_async.cli._demo import run_demo  # noqa: PLC0415 - loads the simulator

    if out is not None:
        try:
            output_format(out, "jsonl")  # the demo verifies what it wrote, which it reads as JSONL
            check_output(out)
        except CommandLineError as exc:
            _fail(EXIT_USAGE, str(exc))
    passed = run(run_demo(records=records, rate=rate, burst=burst, adaptive=adaptive, out=out, quiet=quiet))
    if not passed:
        raise click.exceptions.Exit(EXIT_ERROR)
