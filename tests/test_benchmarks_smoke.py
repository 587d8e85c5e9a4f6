"""The benchmark suite's smoke variant: every case still runs and still produces its ratio rows.

Targets are not asserted here (a loaded CI machine would make that flaky); the
point is that a refactor of the client cannot silently break a benchmark. Each
case runs as ``python -m benchmarks --smoke --only CASE`` in its own process,
like a user would run it, so server children, CPU pinning and event loops never
leak into the test process.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

#: Case -> the row labels it must print.
EXPECTED = {
    "rate": ["1 rate, configured", "1 rate, adaptive, 80-page export", "1 rate, adaptive, 400 pages",
             "1 rate, limit drops mid-run", "1 rate, fake clock"],
    "overhead": ["2 overhead (i)", "2 overhead (ii)", "2 overhead (iii)"],
    "pagination": ["3 pagination (c)", "3 pagination (a)", "3 pagination (b)"],
    "memory": ["4 memory"],
    "conversion": ["5 conversion"],
    "shared": ["6 shared budget", "1 rate, adaptive, second run (remembered limit)"],
}
_NUMBER = re.compile(r"^-?\d+(\.\d+)?(e[-+]?\d+)?( \[.*\])?$")


def _rows(output: str) -> dict[str, list[list[str]]]:
    rows: dict[str, list[list[str]]] = {}
    for line in output.splitlines():
        if line.startswith("| ") and not line.startswith("| Case"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows.setdefault(cells[0], []).append(cells)
    return rows


@pytest.mark.parametrize("case", list(EXPECTED))
def test_case_runs_and_reports_its_rows(case: str) -> None:
    """The case exits 0 and prints each of its rows with a numeric result (or a skip reason)."""
    out = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "benchmarks", "--smoke", "--only", case],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    rows = _rows(out.stdout)
    for label in EXPECTED[case]:
        assert label in rows, f"no row {label!r} in:\n{out.stdout}"
        for cells in rows[label]:
            result = cells[2]
            if result == "skipped":
                assert cells[5].startswith("skipped"), cells
            else:
                assert _NUMBER.match(result), cells


@pytest.mark.parametrize("mode", ["ordered", "fan-out", "pager", "bare"])
def test_instruction_workloads_run(mode: str) -> None:
    """``python -m benchmarks.instructions MODE N`` (the workloads counted under valgrind) still runs."""
    out = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "benchmarks.instructions", mode, "20"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert re.search(r"garbage collections \(gen 0/1/2\): \d+/\d+/\d+", out.stderr), out.stderr[-3000:]


def test_instruction_workloads_refuse_bad_arguments() -> None:
    """An unknown mode is refused with the usage line, not a traceback."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.instructions", "sideways", "20"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )
    assert out.returncode != 0
    assert "usage:" in out.stderr
