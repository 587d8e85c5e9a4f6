"""``python -m benchmarks``: run the cases, print the table, record it in RESULTS.md.

Targets are reported, not asserted: the exit status is 1 only when a case
crashed (or could not run at all), so CI catches a rotting benchmark without
failing on a noisy machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import sys
import time
import traceback
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from benchmarks._harness import REPO, Row, SuiteConfig, render_table
from benchmarks._servers import cores, pin, unpin

#: Case name -> module, in the issue's order.
CASES = {
    "rate": "benchmarks.rate",
    "overhead": "benchmarks.overhead",
    "pagination": "benchmarks.pagination",
    "memory": "benchmarks.memory",
    "conversion": "benchmarks.conversion",
    "shared": "benchmarks.shared",
}
RESULTS = Path(__file__).with_name("RESULTS.md")
START, END = "<!-- results:start -->", "<!-- results:end -->"
_VERSIONS = ("aiohttp", "orjson", "attrs", "cattrs", "msgspec", "pydantic", "httpx", "openapi-python-client")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument(
        "--smoke", action="store_true", help="every case at a small scale, one round (implies --no-write)"
    )
    p.add_argument("--only", default="", help=f"comma-separated cases to run: {', '.join(CASES)}")
    p.add_argument("--rounds", type=int, default=3, help="measured rounds after warm-up (default 3)")
    p.add_argument(
        "--spec", type=Path, default=SuiteConfig().spec, help="OpenAPI file for openapi-python-client"
    )
    p.add_argument("--no-write", action="store_true", help="do not update benchmarks/RESULTS.md")
    p.add_argument("--results", type=Path, default=RESULTS, help=argparse.SUPPRESS)
    return p


def machine() -> str:
    """CPU model, cores, Python and library versions, for the record."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = (line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
            model = next(names, model)
    except OSError:
        pass
    libs = []
    for name in _VERSIONS:
        try:
            libs.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            libs.append(f"{name} (not installed)")
    return (
        f"{os.cpu_count()} cores ({model}), {platform.python_implementation()} {platform.python_version()} "
        f"on {platform.system()}; {', '.join(libs)}"
    )


def run_cases(names: list[str], cfg: SuiteConfig) -> tuple[list[Row], bool]:
    """Run ``names`` in order; a crash becomes a row and flags the run as failed."""
    rows: list[Row] = []
    crashed = False
    for name in names:
        started = time.perf_counter()
        print(f"[{name}] running...", file=sys.stderr, flush=True)
        try:
            rows += importlib.import_module(CASES[name]).run(cfg)
        except Exception as exc:
            traceback.print_exc()
            crashed = True
            rows.append(Row(name, "", details=f"crashed: {type(exc).__name__}: {exc}", status="crashed"))
        print(f"[{name}] {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return rows, crashed


def report(rows: list[Row], command: str, seconds: float) -> str:
    """The Markdown block recorded in RESULTS.md (and printed)."""
    from benchmarks.rate import ADAPTIVE_REPORT  # noqa: PLC0415 - filled in by the rate case

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Command: `{command}`  ",
        f"Machine: {machine()}  ",
        f"Date: {now}; suite wall time {seconds:.0f} s",
        "",
        render_table(rows),
    ]
    if ADAPTIVE_REPORT:
        lines += ["", "Fake-clock report (`benchmarks/adaptive_sim.py`):", "", "```", *ADAPTIVE_REPORT, "```"]
    return "\n".join(lines)


def write_results(path: Path, block: str) -> None:
    """Replace the generated block of ``path``, keeping the hand-written analysis around it."""
    text = path.read_text() if path.exists() else f"# Benchmark results\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{START}\n{block}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"unknown case(s): {', '.join(unknown)}; choose from {', '.join(CASES)}", file=sys.stderr)
        return 2
    server_core, client_core = cores()
    cfg = SuiteConfig(
        smoke=args.smoke, rounds=args.rounds, spec=args.spec.resolve(),
        server_core=server_core, client_core=client_core,
    )
    previous = pin(client_core)  # the servers take the other core
    started = time.perf_counter()
    try:
        rows, crashed = run_cases(names, cfg)
    finally:
        unpin(previous)
    command = "python -m benchmarks" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    block = report(rows, command, time.perf_counter() - started)
    print(block)
    if not (args.no_write or args.smoke):
        write_results(args.results, block)
        shown = args.results.relative_to(REPO) if args.results.is_relative_to(REPO) else args.results
        print(f"\nrecorded in {shown}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
