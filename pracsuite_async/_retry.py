"""What to retry, how long to wait, and how much retrying the client may do.

Retries run on tenacity, entered only after a first failure (wrapping every call
was measured at about a quarter of the throughput, PERFORMANCE-NOTES §1b) with a
fresh ``AsyncRetrying`` per call (a shared one corrupts state across tasks,
jd/tenacity#93). tenacity's types never appear in the public API.

Rules:

* GETs retry connection failures, timeouts, malformed bodies, 429, 500, 502, 503, 504.
* Writes (POST, PATCH) retry only when the request provably never reached the
  server (connection refused, 429), unless the call passes ``idempotent=True``.
* The wait is exponential backoff with full jitter, at least the server's
  ``Retry-After``, and never longer than what is left of the call's deadline.
* A :class:`RetryBudget` caps retries at a fraction of traffic so an outage does
  not turn every client into a retry storm.
"""

from __future__ import annotations

import random

import attrs

from pracsuite_async._errors import (
    APIStatusError,
    PracSuiteError,
    RateLimitError,
    ResponseDecodeError,
    TransportError,
)

__all__ = ["RetryBudget", "RetryPolicy"]

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@attrs.frozen
class RetryPolicy:
    """How a failed call is retried.

    Args:
        max_attempts: attempts in all, the first included (1 disables retries).
        backoff_base: first backoff ceiling in seconds; doubles per retry.
        backoff_max: cap of one backoff sleep.
        max_retry_after: longest server-requested pause honoured before giving up.
        budget_ratio: retries allowed per request sent, over time (0.2 = 20 %).
        budget_min: retries always allowed in a burst, whatever the ratio.
        retry_statuses: statuses retried for idempotent calls.
    """

    max_attempts: int = 5
    backoff_base: float = 0.25
    backoff_max: float = 10.0
    max_retry_after: float = 120.0
    budget_ratio: float = 0.2
    budget_min: float = 20.0
    retry_statuses: frozenset[int] = _RETRY_STATUSES

    def is_retryable(self, error: PracSuiteError, *, idempotent: bool) -> bool:
        """Whether ``error`` may be retried for a call that is (or is not) idempotent."""
        if isinstance(error, RateLimitError):
            # A 429 was not processed: safe for writes too.
            return error.retry_after is None or error.retry_after <= self.max_retry_after
        if isinstance(error, APIStatusError):
            return idempotent and error.status in self.retry_statuses
        if isinstance(error, TransportError):
            return idempotent or not error.request_sent
        if isinstance(error, ResponseDecodeError):
            # Invalid JSON is usually a truncated body; a model mismatch is not transient.
            return idempotent and not error.problems
        return False

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff for the ``retry_number``-th retry (1-based)."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (retry_number - 1)))
        return rng.uniform(0.0, ceiling)

    def wait_for(self, error: BaseException, retry_number: int, rng: random.Random) -> float:
        """Seconds to wait before the next attempt: backoff, at least ``Retry-After``."""
        wait = self.backoff(retry_number, rng)
        if isinstance(error, APIStatusError) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return wait


class RetryBudget:
    """A token bucket of retries: each request earns ``ratio`` tokens, each retry spends one.

    Caps retries at about ``ratio`` of traffic once the initial ``minimum`` is spent.
    """

    __slots__ = ("_cap", "_ratio", "_tokens")

    def __init__(self, ratio: float, minimum: float) -> None:
        self._ratio = ratio
        self._cap = minimum
        self._tokens = minimum

    def __repr__(self) -> str:
        return f"RetryBudget(tokens={self._tokens:.1f})"

    def record_request(self) -> None:
        """Earn budget for one request sent."""
        tokens = self._tokens + self._ratio
        self._tokens = tokens if tokens < self._cap else self._cap

    def try_spend(self) -> bool:
        """Spend one retry if the budget allows it."""
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
