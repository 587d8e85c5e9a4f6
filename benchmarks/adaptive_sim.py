"""Rate-limit policies in virtual time: configured and adaptive, across seeds.

Each walk runs the real :class:`~pracsuite_async.AdaptiveRateLimiter` on a
:class:`~pracsuite_async.testing.FakeClock` against ``tests.limiter_sim``'s strict
token-bucket server (rate R, burst B, starting full; a 429 carries Retry-After =
ceil(deficit / R) s and pauses every sender): 16 workers, 10-30 ms jittered
latency, each 429 retried. Only the latency jitter depends on the seed.

Columns, as the median over seeds with the spread or the worst seed in brackets:

* ``rate/R``: requests accepted per second of the whole walk over R (for a limit
  change, over the time-weighted limit). The bound is R + B / duration, so a
  perfect client is just above 1.
* ``429``: share of requests answered 429.
* ``peak``: most acceptances in any 1 s window over R + B (worst seed).
* ``tail``: accepted rate over the last 10 s (or half) over the final limit.
* ``settle``: for a limit change, virtual seconds after it until the limiter's
  rate stays within -15 %/+10 % of the new limit for 5 s (worst seed).

Targets: configured >= 0.98 R with no 429 when B >= 2, peak <= R + B, and after
the one 429 a burst-1 server causes, a tail >= 0.95; adaptive at R=20, B=5:
>= 0.90 R with <= 2 % 429s; a changed limit approached within ~30 s.
``python -m benchmarks.adaptive_sim [--smoke] [--seeds N]``; under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pracsuite_async import AdaptiveRateLimiter
from pracsuite_async.testing import FakeClock
from tests.limiter_sim import BucketServer, run_walk

__all__ = ["Case", "Walk", "main", "run_case"]


@attrs.frozen
class Case:
    """One row: a policy against a server, optionally changing its limit mid-walk."""

    policy: str  # "configured" (rate_limit=R) or "adaptive" (limit unknown)
    rate: float
    burst: float
    requests: int
    change_at: int | None = None
    new_rate: float | None = None


@attrs.frozen
class Walk:
    """What one seed of a case measured."""

    rate_ratio: float
    throttled: float
    peak_ratio: float
    tail_ratio: float
    settle: float | None = None


def _settle(rates: list[tuple[float, float]], changed: float, end: float, target: float) -> float:
    """Seconds after ``changed`` until the rate stays within -15 %/+10 % of ``target`` for 5 s."""
    before = [r for t, r in rates if t <= changed]
    points = [(changed, before[-1] if before else rates[0][1])]
    points += [(t, r) for t, r in rates if t > changed] + [(end, 0.0)]
    inside_since: float | None = None
    for (t, r), (t_next, _) in itertools.pairwise(points):
        if 0.85 * target <= r <= 1.10 * target:
            inside_since = t if inside_since is None else inside_since
            if t_next - inside_since >= 5.0:
                return inside_since - changed
        else:
            inside_since = None
    return float("inf")


async def _walk(case: Case, seed: int) -> Walk:
    clock = FakeClock()
    server = BucketServer(clock, rate=case.rate, burst=case.burst)
    if case.policy == "configured":
        limiter = AdaptiveRateLimiter(case.rate, ceiling=case.rate, clock=clock)
    else:
        limiter = AdaptiveRateLimiter(clock=clock)
    start = clock.now()
    rates = await run_walk(
        limiter,
        server,
        clock,
        requests=case.requests,
        seed=seed,
        change_at=case.change_at,
        new_rate=case.new_rate,
    )
    end = clock.now()
    final, limit_seconds, settle = case.rate, case.rate * (end - start), None
    if case.new_rate is not None and server.changed_at is not None:
        final = case.new_rate
        limit_seconds += (case.new_rate - case.rate) * (end - server.changed_at)
        settle = _settle(rates, server.changed_at, end, case.new_rate)
    return Walk(
        rate_ratio=len(server.accepted) / limit_seconds,
        throttled=server.throttled_share(),
        peak_ratio=server.peak_1s() / (max(case.rate, final) + case.burst),
        tail_ratio=server.rate_between(end - min(10.0, (end - start) / 2), end) / final,
        settle=settle,
    )


def run_case(case: Case, seeds: Sequence[int]) -> list[Walk]:
    """Every seed of ``case``, each in a fresh event loop."""
    return [asyncio.run(_walk(case, seed)) for seed in seeds]


def _cases(smoke: bool) -> list[Case]:
    cases = []
    for policy in ("configured", "adaptive"):
        for rate in (5.0, 20.0, 100.0):
            for burst in (1.0, 5.0):
                requests = int(5 * rate) + 40 if smoke else max(400, int(20 * rate))
                cases.append(Case(policy, rate, burst, requests))
    if smoke:
        return [*cases, Case("adaptive", 20.0, 5.0, 400, change_at=100, new_rate=10.0)]
    return [
        *cases,
        Case("adaptive", 30.0, 5.0, 600),  # off the ramp's 5 x 2^k grid
        Case("adaptive", 20.0, 5.0, 2000),  # 100 s: re-probes every 20 s
        Case("adaptive", 20.0, 5.0, 800, change_at=300, new_rate=10.0),
        Case("adaptive", 10.0, 5.0, 1500, change_at=300, new_rate=20.0),
    ]


def _row(case: Case, walks: list[Walk]) -> str:
    ratios = [w.rate_ratio for w in walks]
    limit = f"{case.rate:g}" if case.new_rate is None else f"{case.rate:g}->{case.new_rate:g}"
    settles = [w.settle for w in walks if w.settle is not None]
    return "  ".join(
        [
            f"{case.policy:<10} {limit:>6} {case.burst:>2g} {case.requests:>5}",
            f"{statistics.median(ratios):.3f} [{min(ratios):.3f}-{max(ratios):.3f}]",
            f"{statistics.median(w.throttled for w in walks):5.2%} [{max(w.throttled for w in walks):5.2%}]",
            f"{max(w.peak_ratio for w in walks):4.2f}",
            f"{statistics.median(w.tail_ratio for w in walks):5.3f}",
            f"{max(settles):6.1f}" if settles else f"{'-':>6}",
            " ".join(f"{r:.3f}" for r in ratios),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Print the table; the exit status is 0 unless a walk failed to run."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.adaptive_sim", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--smoke", action="store_true", help="shorter walks, one seed")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per case (default 5)")
    args = parser.parse_args(argv)
    seeds = range(1 if args.smoke else args.seeds)
    print(f"Virtual time, {len(seeds)} seeds: median [min-max or worst seed]; rate/R per seed last.")
    print(
        f"{'policy':<10} {'R':>6} {'B':>2} {'reqs':>5}  {'rate/R':<19}  {'429':<15}  {'peak':<4}  "
        f"{'tail':<5}  {'settle':>6}  rate/R by seed"
    )
    try:
        for case in _cases(args.smoke):
            print(_row(case, run_case(case, seeds)), flush=True)
    except Exception as exc:  # report the failure as the exit status
        print(f"failed: {exc!r}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
