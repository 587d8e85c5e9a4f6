"""The retry decision, in one place: retryable? within budget? wait how long?

tenacity is the engine, used the way stamina uses it: imported under a private
alias, a fresh ``AsyncRetrying`` per call (a shared one corrupts state across
tasks, jd/tenacity#93), attempts bounded by ``stop_after_attempt``, total time
bounded by the call's :class:`~pracsuite_async._clock.Deadline` (checked before
every sleep, and each sleep is at most ``max(backoff_max, max_retry_after)``),
and a wait function that reads the server's hint. It is entered only after a
first failure: wrapping every call was measured at about a quarter of the
throughput (PERFORMANCE-NOTES §1b). tenacity's types never appear in the public
API, and its exceptions never escape (``reraise=True``).

Rules:

* GETs retry connection failures, timeouts, malformed bodies, 429, 500, 502, 503, 504.
* Writes (POST, PATCH) retry only when the request provably never reached the
  server (connection refused, 429), unless the call passes ``idempotent=True``.
* The wait is exponential backoff with full jitter, at least the server's
  ``Retry-After`` (for *every* status, already clamped to one day by
  :mod:`~pracsuite_async._rate_headers`). A hint above ``max_retry_after`` is not
  waited for: the call fails at once with the server's error, which carries
  ``retry_after``. A 429 whose hint does not fit the call's deadline fails the same
  way (a :class:`RateLimitError` with ``retry_after``); any other wait that does
  not fit raises :class:`DeadlineExceededError`.
* A :class:`QuotaExceededError` is never retried: a daily quota resets in hours.
* A :class:`RetryBudget` caps retries at a fraction of traffic so an outage does
  not turn every client into a retry storm.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import tenacity as _t

from pracsuite_async._clock import Deadline
from pracsuite_async._errors import (
    APIStatusError,
    ConfigurationError,
    DeadlineExceededError,
    PracSuiteError,
    QuotaExceededError,
    RateLimitError,
    ResponseDecodeError,
    TransportError,
)

__all__ = ["RetryBudget", "RetryPolicy", "RetryRun", "was_sent"]

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def _attempts(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"RetryPolicy.{attribute.name} must be an integer >= 1"
        raise ConfigurationError(msg)


def _seconds(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        msg = f"RetryPolicy.{attribute.name} must be a finite number >= 0"
        raise ConfigurationError(msg)


def _statuses(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, frozenset) or not all(
        isinstance(s, int) and not isinstance(s, bool) and 400 <= s <= 599 for s in value
    ):
        msg = f"RetryPolicy.{attribute.name} must be a frozenset of HTTP error statuses (400-599)"
        raise ConfigurationError(msg)


@attrs.frozen
class RetryPolicy:
    """How a failed call is retried; every field is validated (:class:`ConfigurationError`).

    Attributes:
        max_attempts: attempts in all, the first included (1 disables retries).
        backoff_base: first backoff ceiling in seconds; doubles per retry.
        backoff_max: cap of one backoff sleep.
        max_retry_after: longest server-requested wait (``Retry-After``) honoured;
            a longer one fails the call at once and does not pause the client.
        budget_ratio: retries allowed per request sent, over time (0.2 = 20 %).
        budget_min: retries always allowed in a burst, whatever the ratio.
        retry_statuses: statuses retried for idempotent calls.
    """

    max_attempts: int = attrs.field(default=5, validator=_attempts)
    backoff_base: float = attrs.field(default=0.25, validator=_seconds)
    backoff_max: float = attrs.field(default=10.0, validator=_seconds)
    max_retry_after: float = attrs.field(default=120.0, validator=_seconds)
    budget_ratio: float = attrs.field(default=0.2, validator=_seconds)
    budget_min: float = attrs.field(default=20.0, validator=_seconds)
    retry_statuses: frozenset[int] = attrs.field(default=_RETRY_STATUSES, validator=_statuses)

    def is_retryable(self, error: PracSuiteError, *, idempotent: bool) -> bool:
        """Whether ``error`` may be retried for a call that is (or is not) idempotent."""
        if isinstance(error, APIStatusError):
            if error.retry_after is not None and error.retry_after > self.max_retry_after:
                return False  # the server asks for longer than we wait: its error, now
            if isinstance(error, QuotaExceededError):
                return False
            if isinstance(error, RateLimitError):
                return True  # a 429 was not processed: safe for writes too
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
        """Seconds to wait before the next attempt: backoff, at least the server's hint."""
        wait = self.backoff(retry_number, rng)
        if isinstance(error, APIStatusError) and error.retry_after is not None:
            wait = max(wait, min(error.retry_after, self.max_retry_after))
        return wait


def was_sent(exc: BaseException) -> bool:
    """Whether the failed attempt may have reached the server's handler."""
    if isinstance(exc, TransportError):
        return exc.request_sent
    # A 429 was provably not processed; any other status means the server saw it.
    return isinstance(exc, APIStatusError) and not isinstance(exc, RateLimitError)


class RetryRun:
    """The retry decisions of one call, after its first failure ``first``.

    :meth:`admits` answers "retry the first failure?"; :meth:`engine` builds the
    tenacity loop that asks the same questions of every later failure.
    """

    __slots__ = (
        "_attempts", "_budget", "_deadline", "_first", "_idempotent", "_policy", "_rng", "last", "sent",
    )

    def __init__(
        self,
        policy: RetryPolicy,
        first: PracSuiteError,
        *,
        idempotent: bool,
        budget: RetryBudget,
        deadline: Deadline,
        rng: random.Random,
        max_retries: int | None = None,
    ) -> None:
        self._policy, self._first, self._idempotent = policy, first, idempotent
        # A call's own max_retries overrides the policy's attempts (either way).
        self._attempts = policy.max_attempts if max_retries is None else max_retries + 1
        self._budget, self._deadline, self._rng = budget, deadline, rng
        #: The latest failure, and whether any attempt may have reached the server.
        self.last: PracSuiteError = first
        self.sent = was_sent(first)

    def admits(self) -> bool:
        """Whether the first failure is retried at all (retryable, attempts left, budget)."""
        first = self._first
        if isinstance(first, DeadlineExceededError):
            return False
        if not self._policy.is_retryable(first, idempotent=self._idempotent):
            return False
        return self._attempts > 1 and self._budget.try_spend()

    def _retryable(self, exc: BaseException) -> bool:
        if not isinstance(exc, PracSuiteError) or isinstance(exc, DeadlineExceededError):
            return False
        self.last = exc
        self.sent = self.sent or was_sent(exc)
        if exc is self._first:  # already approved and paid for by `admits`
            return True
        return self._policy.is_retryable(exc, idempotent=self._idempotent) and self._budget.try_spend()

    def _wait(self, state: _t.RetryCallState) -> float:
        return self._policy.wait_for(self.last, state.attempt_number, self._rng)

    def check_fits(self, seconds: float) -> None:
        """Raise unless a ``seconds`` wait fits the call's deadline.

        A 429 whose hint does not fit fails as itself (a :class:`RateLimitError`
        carrying ``retry_after``); any other wait as :class:`DeadlineExceededError`.
        """
        last = self.last
        try:
            self._deadline.ensure(seconds, what="retry backoff")
        except DeadlineExceededError as exc:
            if isinstance(last, RateLimitError) and last.retry_after is not None:
                raise last from None
            exc.request_sent = self.sent
            raise exc from last

    def engine(self, sleep: Callable[[float], Awaitable[None]]) -> _t.AsyncRetrying:
        """A fresh tenacity loop; ``sleep`` must call :meth:`check_fits` before sleeping."""
        return _t.AsyncRetrying(
            stop=_t.stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=_t.retry_if_exception(self._retryable),
            sleep=sleep,
            reraise=True,
        )


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
