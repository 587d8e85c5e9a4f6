"""Live request counters of a simulator, cheap enough to update on every request."""

from __future__ import annotations

import time
from array import array
from collections import Counter, deque
from typing import Any, NamedTuple


class RequestRecord(NamedTuple):
    """One API request as the simulator saw it.

    ``operation`` is the spec's operationId, or ``"unknown"`` for an unrouted
    path; ``status`` is 0 when the connection was reset before any response.
    """

    method: str
    operation: str
    status: int


class SimulatorStats:
    """Counters since start (or the last reset) for API routes; control routes are not counted.

    ``accepted`` counts requests admitted past auth and the rate limit; their
    arrival times (on the simulator's clock) are kept in ``accepted_times`` so
    rates and 1-second peaks can be computed exactly.
    """

    def __init__(self, *, log_size: int = 100_000) -> None:
        """Start with all counters at zero; keep at most ``log_size`` request records."""
        self._log_size = log_size
        self.reset()

    def reset(self) -> None:
        """Zero every counter, forget arrival times and restart the CPU meter."""
        self.total: int = 0
        self.accepted: int = 0
        self.rejected_429: int = 0
        self.by_operation: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.faults: Counter[str] = Counter()
        self.accepted_times: array[float] = array("d")
        self.requests: deque[RequestRecord] = deque(maxlen=self._log_size)
        self._window: deque[float] = deque()
        self._peak = 0
        self._cpu_start = time.process_time()

    @property
    def first_accepted(self) -> float | None:
        """Clock time of the first admitted request, or ``None``."""
        return self.accepted_times[0] if self.accepted_times else None

    @property
    def last_accepted(self) -> float | None:
        """Clock time of the latest admitted request, or ``None``."""
        return self.accepted_times[-1] if self.accepted_times else None

    def record_accepted(self, at: float) -> None:
        """Note an admission at clock time ``at`` (times must not go backwards)."""
        self.accepted += 1
        self.accepted_times.append(at)
        # Arrivals in (at - 1, at]: the maximum over all arrivals equals the
        # maximum over every half-open 1 s window, in O(1) amortised.
        window = self._window
        window.append(at)
        limit = at - 1.0
        while window[0] <= limit:
            window.popleft()
        self._peak = max(self._peak, len(window))

    def record(self, method: str, operation: str, status: int) -> None:
        """Count one finished API request."""
        self.total += 1
        self.by_operation[operation] += 1
        self.by_status[status] += 1
        if status == 429:
            self.rejected_429 += 1
        self.requests.append(RequestRecord(method, operation, status))

    def record_fault(self, kind: str) -> None:
        """Count one injected fault of ``kind``."""
        self.faults[kind] += 1

    def span(self) -> float:
        """Seconds between the first and the last admitted request (0 with fewer than two)."""
        times = self.accepted_times
        return times[-1] - times[0] if len(times) > 1 else 0.0

    def achieved_rate(self) -> float:
        """Admitted requests per second as ``(n - 1) / span``; 0.0 when undefined."""
        span = self.span()
        return (len(self.accepted_times) - 1) / span if span > 0 else 0.0

    def peak_1s(self) -> int:
        """Most admitted requests within any sliding 1-second window."""
        return self._peak

    def cpu_seconds(self) -> float:
        """Process CPU time used since the last reset (server and anything else in-process)."""
        return time.process_time() - self._cpu_start

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot, as served by ``GET /_stats``."""
        return {
            "total": self.total,
            "accepted": self.accepted,
            "rejected_429": self.rejected_429,
            "first_accepted": self.first_accepted,
            "last_accepted": self.last_accepted,
            "span": self.span(),
            "achieved_rate": self.achieved_rate(),
            "peak_1s": self.peak_1s(),
            "cpu_seconds": self.cpu_seconds(),
            "by_operation": dict(self.by_operation),
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "faults": dict(self.faults),
        }

    def __repr__(self) -> str:
        """Show the headline counters."""
        return (
            f"<SimulatorStats total={self.total} accepted={self.accepted} "
            f"rejected_429={self.rejected_429} peak_1s={self._peak}>"
        )
