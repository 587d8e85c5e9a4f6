"""Sans-I/O reading of every rate-limit number a server sends, clamped to sane bounds.

The API documents rate limits and daily quotas only in words: no numbers, no
headers, no 429 body (``spec/README.md`` "Rate limits"). So every header is read
as a hint from a server we cannot trust to be sane. One absurd value must cost at
most the call that received it, never the client's later calls:

* ``Retry-After`` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date, as seconds
  from now in ``[0, MAX_HINT_SECONDS]``. ``inf`` and ``1e400`` clamp to the bound
  (they mean "a long time"); ``nan`` and garbage are ignored (``None``).
* ``X-RateLimit-Limit`` / ``RateLimit-Limit``: a rate in ``(0, MAX_RATE]``;
  anything else (``nan``, ``inf``, ``0``, negative) is ignored, so it can neither
  freeze nor unleash the limiter.
* ``X-RateLimit-Remaining`` / ``RateLimit-Remaining``: a count in
  ``[0, MAX_REMAINING]``; negative or non-finite values are ignored.
* ``X-RateLimit-Reset`` / ``RateLimit-Reset``: seconds from now, or an epoch
  timestamp when above ``EPOCH_THRESHOLD``; in ``[0, MAX_HINT_SECONDS]``.

Whether a clamped wait is honoured is for the limiter and the retry policy
(``max_retry_after``): this module only turns text into bounded numbers. It
imports nothing of the limiter, pipeline or transport.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping

import attrs

__all__ = [
    "EPOCH_THRESHOLD",
    "MAX_HINT_SECONDS",
    "MAX_RATE",
    "MAX_REMAINING",
    "RateFeedback",
    "has_rate_headers",
    "parse_rate_feedback",
    "parse_retry_after",
]

#: The longest wait any header can ask for: one day, the longest a daily quota
#: can take to reset. Longer values (a date in 2100, ``1e9``, ``inf``) clamp here.
MAX_HINT_SECONDS = 86_400.0
#: The highest believable rate limit, in requests per second; above it a
#: ``*-Limit`` header is ignored rather than letting the limiter stop pacing.
MAX_RATE = 10_000.0
#: The largest believable count of requests left in a window.
MAX_REMAINING = 1e9
#: ``*-Reset`` values above this are epoch timestamps, not seconds from now
#: (1e9 seconds is ~31 years; 1e9 as an epoch is September 2001).
EPOCH_THRESHOLD = 1e9

_LIMIT = ("X-RateLimit-Limit", "RateLimit-Limit")
_REMAINING = ("X-RateLimit-Remaining", "RateLimit-Remaining")
_RESET = ("X-RateLimit-Reset", "RateLimit-Reset")


@attrs.frozen
class RateFeedback:
    """What one response told the limiter, every number already bounded.

    ``throttled`` is a 429; ``retry_after`` is in seconds from now. ``limit``,
    ``remaining`` and ``reset_after`` come from ``X-RateLimit-*`` or
    ``RateLimit-*`` headers when the server sends them (``reset_after`` in
    seconds from now).
    """

    throttled: bool
    retry_after: float | None = None
    limit: float | None = None
    remaining: float | None = None
    reset_after: float | None = None


def _number(raw: str | None) -> float | None:
    """A header value as a float, or ``None`` when absent, garbage or ``nan``."""
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return None if math.isnan(value) else value


def _clamp_seconds(seconds: float) -> float:
    return min(max(0.0, seconds), MAX_HINT_SECONDS)


def parse_retry_after(value: str | None, wall_now: float) -> float | None:
    """``Retry-After`` as seconds from now in ``[0, MAX_HINT_SECONDS]``, or ``None``.

    Delta-seconds (fractions tolerated) or an HTTP-date (RFC 9110 §10.2.3).
    """
    if not value:
        return None
    seconds = _number(value)
    if seconds is None:
        try:
            when = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        try:
            seconds = when.timestamp() - wall_now
        except (OverflowError, OSError, ValueError):  # pragma: no cover - platform-dependent dates
            return MAX_HINT_SECONDS
    return _clamp_seconds(seconds)


def _first(headers: Mapping[str, str], names: tuple[str, str]) -> float | None:
    for name in names:
        raw = headers.get(name)
        if raw is not None:
            return _number(raw)
    return None


def _limit(headers: Mapping[str, str]) -> float | None:
    limit = _first(headers, _LIMIT)
    return limit if limit is not None and 0.0 < limit <= MAX_RATE else None


def _remaining(headers: Mapping[str, str]) -> float | None:
    remaining = _first(headers, _REMAINING)
    if remaining is None or not 0.0 <= remaining < math.inf:
        return None
    return min(remaining, MAX_REMAINING)


def _reset(headers: Mapping[str, str], wall_now: float) -> float | None:
    reset = _first(headers, _RESET)
    if reset is None:
        return None
    if reset > EPOCH_THRESHOLD:
        reset -= wall_now
    return _clamp_seconds(reset)


def has_rate_headers(headers: Mapping[str, str]) -> bool:
    """Whether a success response carries a remaining count worth telling the limiter."""
    return _REMAINING[0] in headers or _REMAINING[1] in headers


def parse_rate_feedback(status: int, headers: Mapping[str, str], wall_now: float) -> RateFeedback | None:
    """What a response tells the limiter: a 429, or rate-limit headers; ``None`` for nothing."""
    remaining = _remaining(headers)
    throttled = status == 429
    if not throttled and remaining is None:
        return None
    return RateFeedback(
        throttled=throttled,
        retry_after=parse_retry_after(headers.get("Retry-After"), wall_now) if throttled else None,
        limit=_limit(headers),
        remaining=remaining,
        reset_after=_reset(headers, wall_now),
    )
