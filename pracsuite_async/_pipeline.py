"""The request pipeline every call passes, one method per stage.

``call`` -> deadline -> (first attempt | tenacity retry loop) -> ``_attempt``:
concurrency slot -> rate limiter -> send -> classify. The slot is taken before
the rate token: a token taken while a request still waits for a connection is
spent later, in a burst above the limit (PERFORMANCE-NOTES §4).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from typing import Any

import tenacity as _t

from pracsuite_async._clock import Clock, Deadline
from pracsuite_async._errors import (
    APIStatusError,
    DeadlineExceededError,
    PracSuiteError,
    RateLimitError,
    TransportError,
)
from pracsuite_async._events import (
    Event,
    EventHook,
    RateLimited,
    RateLimitWait,
    RequestSent,
    ResponseReceived,
    RetryScheduled,
)
from pracsuite_async._limiter import RateFeedback, RateLimiter
from pracsuite_async._redact import RedactedHeaders
from pracsuite_async._response import decipher_response, error_from_response
from pracsuite_async._retry import RetryBudget, RetryPolicy
from pracsuite_async._transport import ExternalTransport, RawResponse, Transport
from pracsuite_async._wire import PreparedRequest

__all__ = ["Pipeline"]


class Pipeline:
    """Runs prepared requests through slot, limiter, transport, classification and retries."""

    def __init__(
        self,
        *,
        transport: Transport,
        headers: Mapping[str, str],
        limiter: RateLimiter,
        retry: RetryPolicy,
        clock: Clock,
        max_concurrency: int,
        timeout: float | None,
        deadline: float | None,
        hooks: Sequence[EventHook] = (),
        rng: random.Random | None = None,
    ) -> None:
        self.transport = transport
        self.limiter = limiter
        self.retry = retry
        self.clock = clock
        self.timeout = timeout
        self.default_deadline = deadline
        self._headers = RedactedHeaders(headers)
        self._json_headers = RedactedHeaders({**headers, "Content-Type": "application/json"})
        self._slots = asyncio.Semaphore(max_concurrency)
        self._budget = RetryBudget(retry.budget_ratio, retry.budget_min)
        self._hooks = tuple(hooks)
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        #: Counters for progress displays and benchmarks.
        self.requests_sent = 0
        self.retries = 0
        self.throttled = 0

    def _emit(self, event: Event) -> None:
        for hook in self._hooks:
            hook(event)

    async def call(self, req: PreparedRequest, *, deadline: float | None, idempotent: bool | None) -> Any:
        """Send ``req`` under a deadline, retrying what is safe; return the decoded result.

        The result is :attr:`Deciphered.value <pracsuite_async._response.Deciphered>`.
        """
        seconds = self.default_deadline if deadline is None else deadline
        budget = Deadline(self.clock, seconds, method=req.method, path=req.path)
        safe = req.endpoint.idempotent if idempotent is None else idempotent
        try:
            return await self._attempt(req, budget, 1)
        except PracSuiteError as exc:
            if isinstance(exc, DeadlineExceededError) or not self.retry.is_retryable(exc, idempotent=safe):
                raise
            if self.retry.max_attempts <= 1 or not self._budget.try_spend():
                raise
            first = exc
        return await self._retry_loop(req, budget, safe, first)

    async def _retry_loop(
        self, req: PreparedRequest, budget: Deadline, safe: bool, first: PracSuiteError
    ) -> Any:
        policy = self.retry
        state: dict[str, Any] = {"last": first, "sent": _was_sent(first)}

        def retryable(exc: BaseException) -> bool:
            if not isinstance(exc, PracSuiteError) or isinstance(exc, DeadlineExceededError):
                return False
            state["last"] = exc
            state["sent"] = state["sent"] or _was_sent(exc)
            if exc is first:  # already approved and paid for by `call`
                return True
            return policy.is_retryable(exc, idempotent=safe) and self._budget.try_spend()

        def wait(retry_state: _t.RetryCallState) -> float:
            exc = retry_state.outcome.exception() if retry_state.outcome else None
            return policy.wait_for(exc or first, retry_state.attempt_number, self._rng)

        async def sleep(seconds: float) -> None:
            last: PracSuiteError = state["last"]
            try:
                budget.ensure(seconds, what="retry backoff")
            except DeadlineExceededError as exc:
                exc.request_sent = state["sent"]
                raise exc from last
            self.retries += 1
            if self._hooks:
                self._emit(
                    RetryScheduled(
                        req.endpoint.operation_id, req.method, req.endpoint.path,
                        attempt, seconds, type(last).__name__,
                    )
                )
            await self.clock.sleep(seconds)

        retrying = _t.AsyncRetrying(
            stop=_t.stop_after_attempt(policy.max_attempts),
            wait=wait,
            retry=_t.retry_if_exception(retryable),
            sleep=sleep,
            reraise=True,
        )
        attempt = 0
        async for try_ in retrying:
            attempt += 1
            with try_:
                if attempt == 1:
                    # Replaying the first failure lets tenacity own every wait decision.
                    raise first
                return await self._attempt(req, budget, attempt)
        raise AssertionError  # pragma: no cover - reraise=True always raises or returns

    async def _attempt(self, req: PreparedRequest, budget: Deadline, attempt: int) -> Any:
        budget.ensure(what="attempt")
        slots = self._slots
        if slots.locked():
            try:
                async with asyncio.timeout(budget.remaining()):
                    await slots.acquire()
            except TimeoutError:
                budget.ensure(float("inf"), what="wait for a concurrency slot")
                raise
        else:
            await slots.acquire()
        try:
            return await self._send(req, budget, attempt)
        finally:
            slots.release()

    async def _send(self, req: PreparedRequest, budget: Deadline, attempt: int) -> Any:
        endpoint = req.endpoint
        waited = await self.limiter.acquire(budget)
        hooks = self._hooks
        if hooks:
            if waited:
                self._emit(RateLimitWait(endpoint.operation_id, req.method, endpoint.path, waited))
            self._emit(RequestSent(endpoint.operation_id, req.method, endpoint.path, attempt))
        timeout = self.timeout
        left = budget.remaining()
        if left is not None:
            timeout = left if timeout is None else min(timeout, left)
        self.requests_sent += 1
        self._budget.record_request()
        started = self.clock.now()
        try:
            resp = await self.transport.send(
                req.method,
                req.path,
                params=req.params,
                headers=self._headers if req.body is None else self._json_headers,
                body=req.body,
                timeout=timeout,
            )
        except TransportError as exc:
            left = budget.remaining()
            if left is not None and left <= 0:
                msg = "deadline exceeded during the request"
                raise DeadlineExceededError(
                    msg, method=req.method, path=req.path, request_sent=exc.request_sent
                ) from exc
            raise
        status = resp.status
        if hooks:
            self._emit(
                ResponseReceived(
                    endpoint.operation_id, req.method, endpoint.path, attempt, status,
                    self.clock.now() - started,
                )
            )
        wall = self.clock.wall()
        out = decipher_response(
            endpoint, status, resp.headers, resp.body, method=req.method, path=req.path, wall_now=wall
        )
        if out.feedback is not None:
            self._feedback(req, out.feedback)
        if out.error is not None:
            raise out.error
        return out.value

    def _feedback(self, req: PreparedRequest, feedback: RateFeedback) -> None:
        self.limiter.feedback(feedback)
        if feedback.throttled:
            self.throttled += 1
            if self._hooks:
                ep = req.endpoint
                self._emit(RateLimited(ep.operation_id, req.method, ep.path, feedback.retry_after))

    async def upload_presigned(
        self, url: str, *, fields: Mapping[str, str], file_name: str, content: bytes, deadline: float | None
    ) -> None:
        """POST a file to a presigned storage URL: no API keys, no limiter, no retries."""
        resp = await self._external().post_form(
            url, fields=fields, file_name=file_name, content=content, timeout=self._external_timeout(deadline)
        )
        self._check_external(resp, "POST", "<presigned upload>")

    async def download_presigned(self, url: str, *, deadline: float | None) -> bytes:
        """GET a presigned storage URL and return the body: no API keys, no limiter, no retries."""
        resp = await self._external().get_url(url, timeout=self._external_timeout(deadline))
        self._check_external(resp, "GET", "<presigned download>")
        return resp.body

    def _external(self) -> ExternalTransport:
        transport = self.transport
        if not isinstance(transport, ExternalTransport):
            msg = "the client's transport cannot reach presigned storage URLs"
            raise TypeError(msg)
        return transport

    def _external_timeout(self, deadline: float | None) -> float | None:
        timeout = self.timeout
        if deadline is None:
            return timeout
        return deadline if timeout is None else min(deadline, timeout)

    def _check_external(self, resp: RawResponse, method: str, path: str) -> None:
        if resp.status >= 300:
            raise error_from_response(
                resp.status, resp.headers, resp.body, method=method, path=path, wall_now=self.clock.wall()
            )


def _was_sent(exc: BaseException) -> bool:
    if isinstance(exc, TransportError):
        return exc.request_sent
    # A 429 was provably not processed; any other status means the server saw it.
    return isinstance(exc, APIStatusError) and not isinstance(exc, RateLimitError)
