"""The retry decision in one place, and the validation of every rate and retry setting."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from pracsuite_async import (
    AdaptiveRateLimiter,
    ConfigurationError,
    ConnectionLostError,
    PracSuiteClient,
    QuotaExceededError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from pracsuite_async._clock import Deadline
from pracsuite_async._retry import RetryBudget, RetryRun
from pracsuite_async.testing import FakeClock, FakeTransport, json_response
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY, prepared


def _429(retry_after: float | None = None) -> RateLimitError:
    return RateLimitError(status=429, method="GET", path="/x", retry_after=retry_after)


def _503(retry_after: float | None = None) -> ServerError:
    return ServerError(status=503, method="GET", path="/x", retry_after=retry_after)


class TestDecision:
    @pytest.mark.parametrize("error", [_429(), _429(120.0), _503(), _503(120.0)])
    def test_transient_errors_are_retryable(self, error: Exception) -> None:
        """429 and 503 with hints within max_retry_after are retried for a GET."""
        assert RetryPolicy().is_retryable(error, idempotent=True)  # type: ignore[arg-type]

    @pytest.mark.parametrize("error", [_429(121.0), _503(121.0)])
    def test_hints_beyond_max_retry_after_are_not(self, error: Exception) -> None:
        """For every status, a hint longer than max_retry_after fails the call at once."""
        assert not RetryPolicy().is_retryable(error, idempotent=True)  # type: ignore[arg-type]

    def test_quota_is_never_retried(self) -> None:
        """An exhausted daily quota is not retried, whatever its hint."""
        quota = QuotaExceededError(status=429, method="GET", path="/x", retry_after=1.0)
        assert not RetryPolicy().is_retryable(quota, idempotent=True)

    @pytest.mark.parametrize("status", [429, 503])
    def test_wait_reads_the_clamped_hint(self, status: int) -> None:
        """The wait is at least the server's hint (429 or 503), never above max_retry_after."""
        policy = RetryPolicy(backoff_base=0.01, max_retry_after=30.0)
        error = _429(20.0) if status == 429 else _503(20.0)
        assert policy.wait_for(error, 1, random.Random(1)) == 20.0

    def test_run_admits_within_attempts_and_budget(self) -> None:
        """A retryable first failure is admitted only with attempts and retry budget left."""
        clock = FakeClock()
        lost = ConnectionLostError("reset", method="GET", path="/x", request_sent=True)

        def run(policy: RetryPolicy, budget: RetryBudget) -> RetryRun:
            deadline = Deadline(clock, None, method="GET", path="/x")
            return RetryRun(policy, lost, idempotent=True, budget=budget, deadline=deadline, rng=random.Random())

        assert run(RetryPolicy(), RetryBudget(0.2, 1)).admits()
        assert not run(RetryPolicy(max_attempts=1), RetryBudget(0.2, 1)).admits()
        assert not run(RetryPolicy(), RetryBudget(0.0, 0)).admits()
        assert not RetryRun(
            RetryPolicy(), lost, idempotent=False, budget=RetryBudget(0.2, 5),
            deadline=Deadline(clock, None, method="POST", path="/x"), rng=random.Random(),
        ).admits()

    async def test_sleep_never_exceeds_the_hint_bound(self) -> None:
        """Over a whole call the engine sleeps each server hint, bounded, and stops at max_attempts."""
        clock = FakeClock()
        responses = iter([json_response(503, {}, {"Retry-After": "7"})] * 3 + [json_response(200, {"ok": 1})])
        transport = FakeTransport(lambda req: next(responses))
        client = PracSuiteClient(
            VENDOR_KEY, ACCOUNT_KEY, transport=transport, clock=clock, rate_limit=100.0,
            retry=RetryPolicy(max_attempts=4),
        )
        assert await client._pipeline.call(prepared(), deadline=None, idempotent=None) == {"ok": 1}
        assert [s for s in clock.sleeps if s >= 1] == [7.0, 7.0, 7.0]


BAD_RATES: list[Any] = [math.nan, math.inf, -math.inf, 0, 0.0, -1, "5", True]


class TestSettings:
    @pytest.mark.parametrize("burst", [math.nan, math.inf, 0, 0.5, -1, "2", True])
    def test_burst_is_validated(self, burst: Any) -> None:
        """burst must be finite and >= 1: ConfigurationError naming it, never a raw error."""
        with pytest.raises(ConfigurationError, match="burst"):
            PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, transport=FakeTransport(lambda r: json_response()), burst=burst)

    @pytest.mark.parametrize("rate", BAD_RATES)
    def test_rate_limit_is_validated(self, rate: Any) -> None:
        """rate_limit must be a finite number > 0 (or a limiter, or None)."""
        with pytest.raises(ConfigurationError, match="rate_limit"):
            PracSuiteClient(
                VENDOR_KEY, ACCOUNT_KEY, transport=FakeTransport(lambda r: json_response()), rate_limit=rate
            )

    @pytest.mark.parametrize("name", ["rate", "ceiling"])
    @pytest.mark.parametrize("value", [math.nan, math.inf, 0, -2])
    def test_limiter_arguments_are_validated(self, name: str, value: float) -> None:
        """AdaptiveRateLimiter refuses non-finite or non-positive rates, naming the argument."""
        with pytest.raises(ConfigurationError, match=name):
            AdaptiveRateLimiter(**{name: value})  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("max_attempts", 0),
            ("max_attempts", -1),
            ("max_attempts", 2.5),
            ("max_attempts", True),
            ("backoff_base", -0.1),
            ("backoff_max", math.inf),
            ("max_retry_after", math.nan),
            ("max_retry_after", -1),
            ("budget_ratio", "0.2"),
            ("budget_min", math.inf),
            ("retry_statuses", frozenset({200})),
            ("retry_statuses", {503}),
        ],
    )
    def test_retry_policy_refuses_nonsense(self, field: str, value: Any) -> None:
        """Every RetryPolicy field is checked: ConfigurationError naming the field."""
        with pytest.raises(ConfigurationError, match=field):
            RetryPolicy(**{field: value})

    def test_sane_settings_pass(self) -> None:
        """The defaults and ordinary values are accepted."""
        RetryPolicy(max_attempts=1, backoff_base=0, max_retry_after=0)
        AdaptiveRateLimiter(0.1, ceiling=1000, burst=1)
