"""What every case shares: settings, samples, interleaved rounds, result rows and the table.

A case's result is always a ratio measured in the same run (ours over a baseline,
or over a physical bound such as the server's rate limit); absolute times appear
only as context in the details column. Baseline and ours run alternately, with
the order rotated each round (AB, BA, AB, ...), so drift such as a warming CPU
or a growing heap does not favour whichever always runs second.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Literal

import attrs

__all__ = [
    "SERVER_BOUND",
    "Meter",
    "Row",
    "Sample",
    "Stat",
    "SuiteConfig",
    "Target",
    "interleave",
    "max_share",
    "ratio_stat",
    "render_table",
]

#: A server above this share of its core may be what limits a row, not the client.
SERVER_BOUND = 0.70
REPO = Path(__file__).resolve().parent.parent


@attrs.frozen
class SuiteConfig:
    """Settings of one suite run; ``smoke`` runs every case at a small scale and one round."""

    smoke: bool = False
    rounds: int = 3
    spec: Path = REPO / "spec" / "pracsuite-v1.openapi.yaml"
    server_core: int | None = None
    client_core: int | None = None

    def scale(self, full: int, smoke: int) -> int:
        """``full`` normally, ``smoke`` in a smoke run."""
        return smoke if self.smoke else full

    @property
    def n_rounds(self) -> int:
        """Measured rounds (after warm-up)."""
        return 1 if self.smoke else self.rounds


@attrs.frozen
class Sample:
    """One measured run: ``count`` operations in ``wall`` seconds, CPU of both processes."""

    count: int
    wall: float
    cpu: float
    server_cpu: float | None = None

    @property
    def rate(self) -> float:
        """Operations per second."""
        return self.count / self.wall if self.wall > 0 else math.inf

    @property
    def cpu_us(self) -> float:
        """Client CPU microseconds per operation."""
        return 1e6 * self.cpu / self.count if self.count else math.nan

    @property
    def server_share(self) -> float | None:
        """The server's CPU as a share of one core over the run."""
        return None if self.server_cpu is None or self.wall <= 0 else self.server_cpu / self.wall


class Meter:
    """Times one run: wall clock, client CPU and (when given) the server's CPU."""

    def __init__(self, server_cpu: Callable[[], float] | None = None) -> None:
        self._server_cpu = server_cpu
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        self._srv = server_cpu() if server_cpu else None

    def stop(self, count: int) -> Sample:
        """The sample for ``count`` operations done since the meter started."""
        wall = time.perf_counter() - self._wall
        cpu = time.process_time() - self._cpu
        srv = None
        if self._server_cpu is not None and self._srv is not None:
            srv = self._server_cpu() - self._srv
        return Sample(count, wall, cpu, srv)


@attrs.frozen
class Stat:
    """Median and range of a few per-round values."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        """The median."""
        return statistics.median(self.values)

    def __str__(self) -> str:
        if len(self.values) == 1:
            return f"{self.values[0]:.3g}"
        return f"{self.median:.3g} [{min(self.values):.3g}, {max(self.values):.3g}]"


@attrs.frozen
class Target:
    """A target such as ``>= 0.98``: reported, never asserted."""

    op: Literal[">=", "<="]
    value: float

    def met(self, x: float) -> bool:
        """Whether ``x`` meets the target."""
        return x >= self.value if self.op == ">=" else x <= self.value

    def __str__(self) -> str:
        sign = "≥" if self.op == ">=" else "≤"
        return f"{sign} {self.value:g}"


@attrs.frozen
class Row:
    """One line of the results table."""

    case: str
    metric: str
    ratio: Stat | None = None
    target: Target | None = None
    details: str = ""
    server_share: float | None = None
    status: Literal["ok", "skipped", "crashed"] = "ok"

    @property
    def met(self) -> bool | None:
        """Whether the median meets the target (``None`` without a target or a value)."""
        if self.ratio is None or self.target is None:
            return None
        return self.target.met(self.ratio.median)

    @property
    def server_bound(self) -> bool:
        """The server used more than :data:`SERVER_BOUND` of its core."""
        return self.server_share is not None and self.server_share > SERVER_BOUND

    def cells(self) -> list[str]:
        """The row as table cells."""
        if self.status != "ok":
            return [self.case, self.metric, self.status, "", "", self.details]
        met = {None: "", True: "met", False: "**missed**"}[self.met]
        details = self.details
        if self.server_share is not None:
            details += f"; server CPU {100 * self.server_share:.0f} %"
            if self.server_bound:
                details += " (server-bound)"
        result = str(self.ratio) if self.ratio else ""
        return [self.case, self.metric, result, str(self.target or ""), met, details]


def ratio_stat(ours: Sequence[Sample], base: Sequence[Sample], *, faster_is_higher: bool = True) -> Stat:
    """Per-round ratio of ``ours`` over ``base``: rate ratio (``faster_is_higher``) or wall ratio."""
    if faster_is_higher:
        return Stat(tuple(o.rate / b.rate for o, b in zip(ours, base, strict=True)))
    return Stat(tuple(o.wall / b.wall for o, b in zip(ours, base, strict=True)))


def max_share(*groups: Sequence[Sample]) -> float | None:
    """The highest server CPU share over the samples (the row's worst case)."""
    shares = [s.server_share for group in groups for s in group if s.server_share is not None]
    return max(shares) if shares else None


async def interleave(
    variants: dict[str, Callable[[int], Awaitable[Sample]]], *, rounds: int, count: int, warmup: int
) -> dict[str, list[Sample]]:
    """Run each variant on ``count`` operations once per round, rotating the order.

    A discarded warm-up of ``warmup`` operations per variant comes first: it opens
    connections and builds cached hooks, which no measured round should pay for.
    """
    names = list(variants)
    results: dict[str, list[Sample]] = {name: [] for name in names}
    if warmup:
        for name in names:
            await variants[name](warmup)
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(await variants[name](count))
    return results


def render_table(rows: Sequence[Row]) -> str:
    """A Markdown table of the rows."""
    header = ["Case", "Measure", "Result: median [min, max]", "Target", "Met", "Details"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row.cells()) + " |" for row in rows]
    return "\n".join(lines)
