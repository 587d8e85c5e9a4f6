"""``PracSuiteClient``: settings, the ``async with`` lifecycle and the resource namespaces.

No HTTP happens here: requests are built by ``_wire``, sent by ``_pipeline``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import attrs

from pracsuite_async._clock import Clock, SystemClock
from pracsuite_async._config import (
    DEFAULT_BASE_URL,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_PAGE_WINDOW,
    DEFAULT_TIMEOUT,
    ENV_ACCOUNT_KEY,
    ENV_VENDOR_KEY,
)
from pracsuite_async._errors import ConfigurationError
from pracsuite_async._events import EventHook
from pracsuite_async._limiter import (
    DEFAULT_BURST,
    DEFAULT_SEED_RATE,
    AdaptiveRateLimiter,
    AiolimiterAdapter,
    RateLimiter,
    check_burst,
    check_rate,
)
from pracsuite_async._pipeline import Pipeline
from pracsuite_async._redact import Secret
from pracsuite_async._retry import RetryPolicy
from pracsuite_async._transport import AiohttpTransport, Transport, check_base_url
from pracsuite_async.resources import ClientNamespaces

if TYPE_CHECKING:
    import aiohttp
    from aiolimiter import AsyncLimiter

__all__ = ["ClientStats", "PracSuiteClient"]

try:
    __version__ = version("pracsuite-async")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

USER_AGENT = f"pracsuite-async/{__version__}"


def _key(value: str | None, env: str, what: str) -> Secret:
    value = value if value is not None else os.environ.get(env)
    if not value:
        msg = f"missing {what}: pass it to PracSuiteClient or set {env}"
        raise ConfigurationError(msg)
    return Secret(value)


@attrs.frozen
class ClientStats:
    """Counters of one client: requests sent, retries, 429s, limiter waiting time and rate."""

    requests_sent: int
    retries: int
    throttled: int
    rate_limit_wait: float
    current_rate: float | None


class PracSuiteClient(ClientNamespaces):
    """The asyncio client of the PracSuite API v1.

    Use one client per application (for example created in a FastAPI lifespan) and
    share it between tasks: it owns one connection pool, one rate limiter and one
    concurrency cap::

        async with PracSuiteClient() as client:
            async for appt in client.appointments.list(page_size=100):
                ...

    Args:
        vendor_key: the ``x-api-key`` vendor key (default: ``$PRACSUITE_VENDOR_KEY``).
        account_key: the ``A-api-key`` clinic key (default: ``$PRACSUITE_ACCOUNT_KEY``).
        base_url: API root; plain ``http`` only to loopback unless ``allow_insecure``.
        rate_limit: requests per second (a number: paced at that rate, burst 2);
            ``None`` (default) to discover the limit adaptively from a conservative
            10/s; or a :class:`RateLimiter` / ``aiolimiter.AsyncLimiter`` instance.
        burst: bucket capacity of the default limiter.
        max_concurrency: requests in flight at once.
        retry: the :class:`RetryPolicy` (``RetryPolicy(max_attempts=1)`` disables retries).
        timeout: seconds one attempt may take.
        deadline: default seconds a whole call may take (limiter waits, attempts, backoff).
        page_window: pages a list walk keeps in flight.
        session: an ``aiohttp.ClientSession`` to use (not closed by the client).
        transport: a custom :class:`Transport` (tests use :class:`~pracsuite_async.testing.FakeTransport`).
        clock: time source (tests use :class:`~pracsuite_async.testing.FakeClock`).
        event_hooks: callables receiving every :data:`~pracsuite_async.Event`.
        allow_insecure: permit ``http://`` to a non-loopback host.
        rng: random source of the retry jitter (tests pass a seeded one).
    """

    def __init__(
        self,
        vendor_key: str | None = None,
        account_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        rate_limit: float | RateLimiter | AsyncLimiter | None = None,
        burst: float = DEFAULT_BURST,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        retry: RetryPolicy | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        deadline: float | None = DEFAULT_DEADLINE,
        page_window: int = DEFAULT_PAGE_WINDOW,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        clock: Clock | None = None,
        event_hooks: Sequence[EventHook] = (),
        allow_insecure: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        self._vendor_key = _key(vendor_key, ENV_VENDOR_KEY, "vendor key")
        self._account_key = _key(account_key, ENV_ACCOUNT_KEY, "account key")
        self.base_url = check_base_url(base_url, allow_insecure=allow_insecure)
        _check_positive_int("max_concurrency", max_concurrency)
        _check_positive_int("page_window", page_window)
        for name, value in (("timeout", timeout), ("deadline", deadline)):
            if value is not None and not value > 0:
                msg = f"{name} must be positive or None"
                raise ConfigurationError(msg)
        clock = clock or SystemClock()
        retry = retry or RetryPolicy()
        self.limiter = _make_limiter(rate_limit, burst, clock, retry.max_retry_after)
        self.page_window = page_window
        self._transport = transport or AiohttpTransport(
            self.base_url, session=session, max_connections=max_concurrency
        )
        headers = {
            "x-api-key": self._vendor_key.reveal(),
            "A-api-key": self._account_key.reveal(),
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        self._pipeline = Pipeline(
            transport=self._transport,
            headers=headers,
            limiter=self.limiter,
            retry=retry,
            clock=clock,
            max_concurrency=max_concurrency,
            timeout=timeout,
            deadline=deadline,
            hooks=event_hooks,
            rng=rng,
        )
        super().__init__(self)

    def __repr__(self) -> str:
        return f"PracSuiteClient(base_url={self.base_url!r}, limiter={self.limiter!r})"

    def __reduce__(self) -> Any:
        msg = "PracSuiteClient holds live connections and keys; it cannot be pickled"
        raise TypeError(msg)

    @property
    def stats(self) -> ClientStats:
        """A snapshot of the client's counters."""
        p = self._pipeline
        limiter = self.limiter
        return ClientStats(
            requests_sent=p.requests_sent,
            retries=p.retries,
            throttled=p.throttled,
            rate_limit_wait=getattr(limiter, "total_wait", 0.0),
            current_rate=getattr(limiter, "rate", None),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (only if the client created it)."""
        await self._transport.aclose()


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{name} must be a positive integer"
        raise ConfigurationError(msg)


def _make_limiter(rate_limit: object, burst: object, clock: Clock, max_pause: float) -> RateLimiter:
    if rate_limit is None:
        cap = check_burst(burst)
        return AdaptiveRateLimiter(DEFAULT_SEED_RATE, burst=cap, clock=clock, max_pause=max_pause)
    if isinstance(rate_limit, int | float) and not isinstance(rate_limit, bool):
        rate, cap = check_rate("rate_limit", rate_limit), check_burst(burst)
        return AdaptiveRateLimiter(rate, ceiling=rate, burst=cap, clock=clock, max_pause=max_pause)
    if isinstance(rate_limit, RateLimiter):
        return rate_limit
    from aiolimiter import AsyncLimiter  # noqa: PLC0415 - only needed for this branch

    if isinstance(rate_limit, AsyncLimiter):
        return AiolimiterAdapter(rate_limit, clock=clock, max_pause=max_pause)
    msg = "rate_limit must be a number of requests per second, a limiter or None"
    raise ConfigurationError(msg)
