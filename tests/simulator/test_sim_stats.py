"""SimulatorStats: peak over any 1-second window, achieved rate, the request log, reset."""

from __future__ import annotations

import bisect
import random

from pracsuite_async.simulator import RequestRecord, SimulatorStats
from tests.simulator.conftest import MakeApi, ManualClock


def _brute_peak(times: list[float]) -> int:
    """Most arrivals in any half-open window (t - 1, t], checked at every arrival."""
    return max(
        (bisect.bisect_right(times, t) - bisect.bisect_right(times, t - 1.0) for t in times), default=0
    )


def test_peak_matches_brute_force() -> None:
    """peak_1s equals a brute-force count over every window, for random arrival patterns."""
    rng = random.Random(3)
    for _ in range(50):
        t, times = 0.0, []
        for _ in range(rng.randrange(0, 300)):
            t += rng.choice([0.0, 0.001, 0.05, 0.2, 0.5, 1.0, 1.5]) * rng.random()
            times.append(t)
        stats = SimulatorStats()
        for at in times:
            stats.record_accepted(at)
        assert stats.peak_1s() == _brute_peak(times)


def test_peak_window_is_half_open() -> None:
    """Arrivals exactly one second apart never share a window."""
    stats = SimulatorStats()
    for at in (0.0, 1.0, 2.0, 2.5):
        stats.record_accepted(at)
    assert stats.peak_1s() == 2


def test_rate_span_and_log() -> None:
    """achieved_rate is (n - 1) / span; the log keeps (method, operation, status) and reset clears it."""
    stats = SimulatorStats(log_size=2)
    assert stats.achieved_rate() == 0.0
    assert stats.first_accepted is None
    for at in (10.0, 10.5, 12.0):
        stats.record_accepted(at)
    assert stats.span() == 2.0
    assert stats.achieved_rate() == 1.0
    for status in (200, 429, 200):
        stats.record("GET", "listSexes", status)
    assert list(stats.requests) == [
        RequestRecord("GET", "listSexes", 429),
        RequestRecord("GET", "listSexes", 200),
    ]
    assert stats.by_status == {200: 2, 429: 1}
    assert stats.rejected_429 == 1
    assert stats.to_dict()["peak_1s"] == 2
    stats.reset()
    assert (stats.total, stats.accepted, stats.peak_1s(), len(stats.accepted_times)) == (0, 0, 0, 0)


async def test_paced_traffic_through_the_server(make_api: MakeApi, sim_clock: ManualClock) -> None:
    """With R=4, B=2 and a request every 0.1 s, admissions match the bucket and peak_1s <= R + B."""
    api = await make_api(rate=4.0, burst=2, clock=sim_clock)
    statuses = []
    for _ in range(50):
        statuses.append((await api.get("/sex")).status)
        sim_clock.advance(0.1)
    stats = api.sim.stats
    assert stats.accepted == statuses.count(200)
    assert stats.rejected_429 == statuses.count(429)
    assert stats.peak_1s() <= 4 + 2
    assert abs(stats.achieved_rate() - 4.0) < 0.5
    assert [r.operation for r in stats.requests] == ["listSexes"] * 50
    api.sim.reset_stats()
    assert stats.total == 0
