"""The time seam: a :class:`Clock` protocol and the per-call :class:`Deadline`.

Everything that waits (the limiter, retry backoff, deadlines) asks a Clock, so
tests substitute :class:`pracsuite_async.testing.FakeClock` and never sleep.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable

from pracsuite_async._errors import DeadlineExceededError, RequestTypeError, RequestValidationError
from pracsuite_async._types import is_seconds


@runtime_checkable
class Clock(Protocol):
    """Monotonic time, wall time and sleeping, as one injectable object."""

    def now(self) -> float:
        """Monotonic seconds (only differences are meaningful)."""

    def wall(self) -> float:
        """Seconds since the epoch, to read HTTP-date ``Retry-After`` values."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class SystemClock:
    """The real clock: :func:`time.monotonic`, :func:`time.time` and :func:`asyncio.sleep`."""

    __slots__ = ()

    def now(self) -> float:
        """Return :func:`time.monotonic`."""
        return time.monotonic()

    def wall(self) -> float:
        """Return :func:`time.time`."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Sleep with :func:`asyncio.sleep`."""
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


def check_deadline(value: object, name: str = "deadline") -> float | None:
    """A per-call ``deadline``: ``None`` or a finite positive number of seconds (not a bool)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        rule = "must be a number of seconds or None"
        raise RequestTypeError(name, rule)
    if not is_seconds(value):
        rule = "must be a finite positive number of seconds"
        raise RequestValidationError(name, rule)
    return float(value)


class Deadline:
    """The time budget of one operation: limiter waits, every attempt and every backoff sleep.

    ``None`` seconds means unbounded. :meth:`ensure` fails *before* a wait that
    cannot finish in time, rather than after sleeping uselessly. One Deadline is
    shared by every request of an operation (all pages of a walk, all windows of
    a search, every step of ``book``); :meth:`bind` gives each request a view
    that names it in errors but expires at the same instant.
    """

    __slots__ = ("_clock", "expires_at", "method", "path")

    def __init__(self, clock: Clock, seconds: float | None, *, method: str, path: str) -> None:
        self._clock = clock
        self.expires_at: float | None = None if seconds is None else clock.now() + seconds
        self.method: str = method
        self.path: str = path

    def bind(self, *, method: str, path: str, reserve: float = 0.0) -> Deadline:
        """The same budget, naming ``method path`` in its errors, ending ``reserve`` seconds early.

        ``reserve`` keeps time back for cleanup after this step (``book`` releases
        its hold with it when finalising fails).
        """
        view = Deadline(self._clock, None, method=method, path=path)
        if self.expires_at is not None:
            view.expires_at = self.expires_at - reserve
        return view

    def remaining(self) -> float | None:
        """Seconds left, or ``None`` when unbounded (never negative)."""
        if self.expires_at is None:
            return None
        return max(0.0, self.expires_at - self._clock.now())

    def ensure(self, wait: float = 0.0, *, what: str = "wait") -> None:
        """Raise :class:`DeadlineExceededError` unless ``wait`` more seconds still fit."""
        left = self.remaining()
        if left is not None and (left <= 0 or wait > left):
            msg = f"deadline exceeded: {left:.3f}s left cannot cover a {wait:.3f}s {what}"
            raise DeadlineExceededError(msg, method=self.method, path=self.path, request_sent=False)

    def cap(self, seconds: float) -> float:
        """``seconds`` limited to what is left of the budget."""
        left = self.remaining()
        return seconds if left is None else min(seconds, left)
