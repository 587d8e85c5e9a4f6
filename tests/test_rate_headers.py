"""The pure rate-header parser: every server number finite and clamped, both header families."""

from __future__ import annotations

import pytest

from pracsuite_async._rate_headers import (
    MAX_HINT_SECONDS,
    MAX_RATE,
    RateFeedback,
    has_rate_headers,
    parse_rate_feedback,
    parse_retry_after,
)

WALL = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("12", 12.0),
            ("0", 0.0),
            ("1.5", 1.5),
            ("-5", 0.0),
            ("1e9", MAX_HINT_SECONDS),
            ("inf", MAX_HINT_SECONDS),
            ("1e400", MAX_HINT_SECONDS),
            ("Fri, 01 Jan 2100 00:00:00 GMT", MAX_HINT_SECONDS),
            ("Thu, 01 Jan 2026 00:00:30 GMT", 30.0),
            ("Wed, 31 Dec 2025 23:00:00 GMT", 0.0),
        ],
    )
    def test_values_are_finite_and_clamped(self, value: str, expected: float) -> None:
        """Delta-seconds and HTTP-dates land in [0, one day], whatever their size."""
        assert parse_retry_after(value, WALL) == expected

    @pytest.mark.parametrize("value", [None, "", "nan", "NaN", "soon", "Mon, 99 Foo 2026"])
    def test_garbage_is_ignored(self, value: str | None) -> None:
        """nan and unparseable values give no hint rather than a poisoned one."""
        assert parse_retry_after(value, WALL) is None


class TestFeedback:
    def test_success_without_headers_tells_nothing(self) -> None:
        """A plain 2xx gives no feedback at all (the fast path)."""
        assert parse_rate_feedback(200, {}, WALL) is None

    @pytest.mark.parametrize("prefix", ["X-RateLimit", "RateLimit"])
    def test_both_header_families_are_read(self, prefix: str) -> None:
        """X-RateLimit-* and the IETF RateLimit-* headers mean the same."""
        headers = {f"{prefix}-Limit": "20", f"{prefix}-Remaining": "3", f"{prefix}-Reset": "2"}
        assert has_rate_headers(headers)
        assert parse_rate_feedback(200, headers, WALL) == RateFeedback(
            throttled=False, limit=20.0, remaining=3.0, reset_after=2.0
        )

    @pytest.mark.parametrize("limit", ["nan", "inf", "-inf", "0", "-1", "1e400", str(MAX_RATE * 2), "x"])
    def test_absurd_limits_are_ignored(self, limit: str) -> None:
        """A limit that is not a finite rate in (0, MAX_RATE] is dropped, never adopted."""
        fb = parse_rate_feedback(200, {"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": "5"}, WALL)
        assert fb is not None
        assert fb.limit is None

    @pytest.mark.parametrize("remaining", ["nan", "inf", "-1", "x"])
    def test_absurd_remaining_is_ignored(self, remaining: str) -> None:
        """A remaining count that is negative or not finite is not feedback."""
        assert parse_rate_feedback(200, {"X-RateLimit-Remaining": remaining}, WALL) is None

    @pytest.mark.parametrize(
        ("reset", "expected"),
        [("1e12", MAX_HINT_SECONDS), ("inf", MAX_HINT_SECONDS), ("-3", 0.0), (str(WALL + 7), 7.0), ("4", 4.0)],
    )
    def test_reset_is_clamped(self, reset: str, expected: float) -> None:
        """Resets as seconds or epoch timestamps land in [0, one day]."""
        fb = parse_rate_feedback(200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, WALL)
        assert fb is not None
        assert fb.reset_after == pytest.approx(expected)

    def test_429_carries_its_clamped_retry_after(self) -> None:
        """A 429 is throttled feedback with Retry-After clamped like every other number."""
        fb = parse_rate_feedback(429, {"Retry-After": "1e400"}, WALL)
        assert fb == RateFeedback(throttled=True, retry_after=MAX_HINT_SECONDS)

    def test_the_response_layer_uses_this_parser(self) -> None:
        """_response (the one place responses are read) uses this parser, so every path reads headers alike."""
        from pracsuite_async import _response

        assert _response.parse_rate_feedback is parse_rate_feedback
        assert _response.parse_retry_after is parse_retry_after
