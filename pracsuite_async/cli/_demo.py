"""``pracsuite demo`` and ``pracsuite simulator``: the bundled simulator, driven from the command line.

The demo is the library's main job end to end: start a rate-limited simulator
in-process, export every appointment through :class:`~pracsuite_async.PracSuiteClient`
with the live progress bar, then read the file back and check it against the
simulator's own data before printing what rate was achieved against the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import signal
import tempfile
from pathlib import Path

import attrs
from rich.console import Console
from rich.table import Table

from pracsuite_async import PracSuiteClient
from pracsuite_async.cli._export import (
    ExportProgress,
    ExportResult,
    atomic_output,
    progress_console,
    run_export,
)
from pracsuite_async.simulator import Simulator, SimulatorConfig

__all__ = ["Verification", "run_demo", "serve_simulator", "verify_export"]

#: The demo walks appointments: ``GET /appointment``, listAppointments.
_ID_FIELD = "appointment_id"


@attrs.frozen
class Verification:
    """How an export file compares with the ids the simulator serves."""

    expected: int
    records: int
    duplicates: int
    missing: int
    unexpected: int
    total_entries: int | None

    @property
    def ok(self) -> bool:
        """Every expected record exactly once, nothing else, and the server's count agrees."""
        return (
            self.records == self.expected
            and self.duplicates == self.missing == self.unexpected == 0
            and self.total_entries in (None, self.expected)
        )


def verify_export(path: Path, expected: set[int], total_entries: int | None) -> Verification:
    """Read the JSONL export back and compare its ids with ``expected``."""
    seen: set[int] = set()
    records = duplicates = 0
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            rid = json.loads(line)[_ID_FIELD]
            records += 1
            if rid in seen:
                duplicates += 1
            seen.add(rid)
    return Verification(
        expected=len(expected),
        records=records,
        duplicates=duplicates,
        missing=len(expected - seen),
        unexpected=len(seen - expected),
        total_entries=total_entries,
    )


def _served_appointment_ids(simulator: Simulator) -> set[int]:
    # /appointment lists patient appointments only: the diary entries of kind
    # "appointment" (notes, rule outs and classes share the table and id space).
    diary = simulator.dataset.tables["diary"]
    return {rid for rid, record in diary.items() if record.get("_kind") == "appointment"}


@attrs.frozen
class _ServerFigures:
    accepted: int
    total: int
    throttled: int
    achieved_rate: float
    peak_1s: int


def _summary(
    config: SimulatorConfig,
    *,
    adaptive: bool,
    result: ExportResult,
    server: _ServerFigures,
    check: Verification,
    kept: Path | None,
) -> Table:
    limit = f"{config.rate:g} req/s" if config.rate is not None else "none"
    table = Table(title="pracsuite demo: export every appointment", title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("Records", f"{result.records:,} written, {check.expected:,} served by the simulator")
    table.add_row("Pages", f"{result.pages:,} (up to 100 records each)")
    table.add_row("Elapsed", f"{result.elapsed:.1f} s")
    table.add_row("Client", "adaptive (limit not configured)" if adaptive else f"rate_limit={config.rate:g}")
    table.add_row("Requests", f"{server.accepted:,} accepted of {server.total:,} received by the simulator")
    table.add_row("Achieved rate", f"{server.achieved_rate:.2f} req/s (limit {limit}, burst {config.burst})")
    table.add_row("Peak in any 1 s", f"{server.peak_1s} requests")
    table.add_row("429 responses", f"{server.throttled}")
    table.add_row("Retries", f"{result.stats.retries}")
    table.add_row("Limiter waits", f"{result.stats.rate_limit_wait:.1f} s, summed over all requests")
    table.add_row("Duplicate ids", f"{check.duplicates}")
    table.add_row("Missing ids", f"{check.missing}")
    if check.unexpected:
        table.add_row("Unexpected ids", f"{check.unexpected}")
    if kept is not None:
        table.add_row("Output", str(kept))
    table.add_row("Verification", "[bold green]OK[/]" if check.ok else "[bold red]FAILED[/]")
    return table


async def run_demo(
    *, records: int, rate: float, burst: int, adaptive: bool, out: Path | None, quiet: bool
) -> bool:
    """Run the demo and print its summary; ``True`` when the export verified.

    Raises:
        PracSuiteError: the export failed (the caller maps it to an exit status).
    """
    console, status = Console(), progress_console()
    config = SimulatorConfig(records=records, rate=rate, burst=burst)
    with status.status(f"generating {records:,} appointments for the simulator..."):
        # Dataset generation is synchronous and takes about a second per 20,000 records.
        simulator = Simulator(config)
    with tempfile.TemporaryDirectory(prefix="pracsuite-demo-") as scratch:
        path = out if out is not None else Path(scratch) / "appointments.jsonl"
        async with simulator:
            status.print(
                f"simulator at {simulator.base_url}: {config.rate:g} req/s, burst {config.burst}; "
                f"client {'adaptive' if adaptive else f'rate_limit={rate:g}'}"
            )
            async with PracSuiteClient(
                config.vendor_keys[0],
                config.account_keys[0],
                base_url=simulator.base_url,
                rate_limit=None if adaptive else rate,
            ) as client:
                pager = client.appointments.list(page_size=100)
                with (
                    atomic_output(path, "jsonl") as sink,
                    ExportProgress(status, "appointments", enabled=not quiet) as progress,
                ):
                    result = await run_export(client, pager, sink, progress)
            stats = simulator.stats
            server = _ServerFigures(
                accepted=stats.accepted,
                total=stats.total,
                throttled=stats.rejected_429,
                achieved_rate=stats.achieved_rate(),
                peak_1s=stats.peak_1s(),
            )
            expected = _served_appointment_ids(simulator)
        check = verify_export(path, expected, result.total_entries)
    console.print(
        _summary(config, adaptive=adaptive, result=result, server=server, check=check, kept=out)
    )
    return check.ok


async def serve_simulator(config: SimulatorConfig, host: str, port: int, console: Console) -> None:
    """Serve a simulator on ``host:port`` until Ctrl-C (or SIGTERM), after printing how to reach it."""
    with console.status(f"generating {config.records:,} appointments..."):
        simulator = Simulator(config, host=host, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # SIGTERM (docker stop, systemd) should stop as cleanly as Ctrl-C, which asyncio.run handles.
    with contextlib.suppress(NotImplementedError):  # Windows event loops have no signal handlers
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        async with simulator:
            limit = "no rate limit" if config.rate is None else f"{config.rate:g} req/s, burst {config.burst}"
            say = functools.partial(console.print, soft_wrap=True, highlight=False)
            say(f"PracSuite simulator at [bold]{simulator.base_url}[/] ({limit})")
            # These are the simulator's fixed demo keys, not secrets: printing them is the point.
            say(f"  export PRACSUITE_VENDOR_KEY={config.vendor_keys[0]}")
            say(f"  export PRACSUITE_ACCOUNT_KEY={config.account_keys[0]}")
            say(f"  export PRACSUITE_BASE_URL={simulator.base_url}  # read by the README's examples")
            say(f"  pracsuite export appointments --base-url {simulator.base_url} --out appointments.jsonl")
            say("Ctrl-C stops it.")
            await stop.wait()
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)
