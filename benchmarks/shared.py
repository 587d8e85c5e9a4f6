"""Case 6: aggregate throughput of 4 processes sharing one rate budget.

This needs a limiter whose state lives outside the process (a Redis GCRA, say),
so that four clients together stay at the server's R. The library has none yet,
so the row is reported as skipped; when one lands, run 4 processes against one
simulator at R and report the simulator's achieved rate over R and its 429s.
"""

from __future__ import annotations

from benchmarks._harness import Row, SuiteConfig

__all__ = ["run"]


def run(cfg: SuiteConfig) -> list[Row]:
    """The skipped row."""
    return [Row("6 shared budget", "4 processes: aggregate ÷ R", details="skipped: no shared limiter yet",
                status="skipped")]
