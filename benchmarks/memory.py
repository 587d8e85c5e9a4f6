"""Case 4: streaming a long list through ``list()`` holds a bounded window, not the whole list.

Each walk runs in a fresh interpreter (``python -m benchmarks.memory URL``), so one
walk's heap cannot flatter or burden another. The child streams every appointment
of the bare page server through ``client.appointments.list(page_size=100)``
without keeping them and reports its peak RSS (``VmHWM``, i.e. ``ru_maxrss`` without
the spawning parent's share that Linux folds in at exec) minus its RSS when
the first record arrived, by which time imports, the connection pool and the
converter's hooks exist. Walks of 20,000 and 100,000 records alternate; a bounded
window means both grow by the same few MB.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys

from benchmarks._harness import REPO, Row, Stat, SuiteConfig, Target
from benchmarks._servers import ServerProcess, ServerSpec, pin

__all__ = ["run"]

PAGE_SIZE = 100


def _status_mb(field: str) -> float:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    msg = f"{field} not in /proc/self/status"
    raise LookupError(msg)


async def _walk(base_url: str) -> dict[str, float]:
    from pracsuite_async import PracSuiteClient  # noqa: PLC0415 - after the baseline RSS exists

    count = 0
    first = 0.0
    async with PracSuiteClient(
        "sim-vendor-key", "sim-account-key", base_url=base_url, rate_limit=1e6
    ) as client:
        async for _ in client.appointments.list(page_size=PAGE_SIZE):
            if not count:
                first = _status_mb("VmRSS")
            count += 1
    # VmHWM is ru_maxrss for this address space only: Linux folds the RSS of the
    # process that spawned us into ru_maxrss at exec, so a big parent would show up
    # as growth here.
    peak = _status_mb("VmHWM")
    return {"records": count, "first_mb": first, "peak_mb": peak, "growth_mb": max(0.0, peak - first)}


def main(argv: list[str] | None = None) -> None:
    """Child: walk ``BASE_URL`` (pinned to ``CORE`` if given) and print the result as JSON."""
    args = argv if argv is not None else sys.argv[1:]
    if len(args) > 1 and args[1] != "-":
        pin(int(args[1]))
    print(json.dumps(asyncio.run(_walk(args[0]))))


def _child(base_url: str, core: int | None) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", base_url, "-" if core is None else str(core)],
        capture_output=True, text=True, check=True, cwd=REPO, timeout=300,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def run(cfg: SuiteConfig) -> list[Row]:
    """Alternate fresh-process walks of a short and a long list."""
    if not os.path.exists("/proc/self/status"):
        return [Row("4 memory", "peak RSS growth", details="skipped: needs /proc (Linux)", status="skipped")]
    small, large = cfg.scale(20_000, 1_000), cfg.scale(100_000, 5_000)
    growth: dict[int, list[float]] = {small: [], large: []}
    first: list[float] = []
    # Two rounds suffice: RSS is deterministic to ~0.1 MB, unlike timings.
    for _ in range(min(cfg.n_rounds, 2)):
        for total in (small, large):
            spec = ServerSpec("pages", total=total, core=cfg.server_core)
            with ServerProcess(spec) as server:
                result = _child(server.base_url, cfg.client_core)
            assert result["records"] == total, result
            growth[total].append(result["growth_mb"])
            first.append(result["first_mb"])
    big = Stat(tuple(growth[large]))
    diff = Stat(tuple(b - s for s, b in zip(growth[small], growth[large], strict=True)))
    details = (
        f"peak RSS (VmHWM) minus RSS at the first record, fresh process per walk; "
        f"{small:,} records: {statistics.median(growth[small]):.1f} MB, "
        f"{large:,} records: {big.median:.1f} MB; RSS at the first record {statistics.median(first):.0f} MB"
    )
    return [
        Row("4 memory", f"RSS growth streaming {large:,} records, MB", big, Target("<=", 50.0), details),
        Row("4 memory", f"growth {large // 1000}k minus growth {small // 1000}k, MB", diff, Target("<=", 5.0),
            "does the footprint grow with the total?"),
    ]


if __name__ == "__main__":
    main()
