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

import attrs

from pracsuite_async._capture import record as record_response
from pracsuite_async._clock import Clock, Deadline, check_deadline
from pracsuite_async._errors import (
    DeadlineExceededError,
    PracSuiteError,
    TransportError,
)
from pracsuite_async._events import (
    CallFinished,
    CallStarted,
    Event,
    EventHook,
    RateLimited,
    RateLimitWait,
    RequestSent,
    ResponseReceived,
    RetryScheduled,
)
from pracsuite_async._limiter import RateLimiter
from pracsuite_async._options import DEFAULT_CALL_OPTIONS, CallOptions
from pracsuite_async._rate_headers import RateFeedback
from pracsuite_async._redact import SecretHeaders
from pracsuite_async._response import decipher_response, error_from_response
from pracsuite_async._retry import RetryBudget, RetryPolicy, RetryRun
from pracsuite_async._scheduler import Scheduler
from pracsuite_async._transport import ExternalTransport, RawResponse, Transport, check_presigned_url
from pracsuite_async._wire import PreparedRequest

__all__ = ["Pipeline"]


class Pipeline:
    """Runs prepared requests through slot, limiter, transport, classification and retries."""

    def __init__(
        self,
        *,
        transport: Transport,
        headers: SecretHeaders,
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
        self._headers = headers
        #: Decides whose request takes the next rate token (lanes, accounts round-robin).
        self.scheduler = Scheduler()
        self._lanes = getattr(limiter, "priority_lanes", False) is True
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

    def budget(self, deadline: float | Deadline | None, *, method: str, path: str) -> Deadline:
        """The :class:`Deadline` of an operation: ``deadline`` seconds, or the client's default.

        A :class:`Deadline` passed in is shared, not restarted: the operation is part
        of a larger one (a page of a walk, a step of ``book``) and ends with it.
        """
        if isinstance(deadline, Deadline):
            return deadline.bind(method=method, path=path)
        seconds = self.default_deadline if deadline is None else check_deadline(deadline)
        return Deadline(self.clock, seconds, method=method, path=path)

    async def call(
        self,
        req: PreparedRequest,
        *,
        deadline: float | Deadline | None,
        idempotent: bool | None,
        options: CallOptions = DEFAULT_CALL_OPTIONS,
    ) -> Any:
        """Send ``req`` under a deadline, retrying what is safe; return the parsed JSON body.

        ``deadline`` is seconds for this call alone (``None``: ``options.deadline``, else
        the client's default) or the shared :class:`Deadline` of the operation this call
        is part of. ``options`` carry the calling view's headers, lane and overrides.
        """
        if not self._hooks:
            return await self._call(req, deadline=deadline, idempotent=idempotent, options=options)
        endpoint, started = req.endpoint, self.clock.now()
        error: str | None = None
        self._emit(CallStarted(endpoint.operation_id, req.method, endpoint.path))
        try:
            return await self._call(req, deadline=deadline, idempotent=idempotent, options=options)
        except BaseException as exc:
            error = type(exc).__name__
            raise
        finally:
            elapsed = self.clock.now() - started
            self._emit(CallFinished(endpoint.operation_id, req.method, endpoint.path, elapsed, error))

    async def _call(
        self,
        req: PreparedRequest,
        *,
        deadline: float | Deadline | None,
        idempotent: bool | None,
        options: CallOptions,
    ) -> Any:
        seconds = options.deadline if deadline is None else deadline
        budget = self.budget(seconds, method=req.method, path=req.path)
        safe = req.endpoint.idempotent if idempotent is None else idempotent
        if options.extra_query:
            req = attrs.evolve(req, params=[*req.params, *options.extra_query])
        try:
            return await self._attempt(req, budget, 1, options)
        except PracSuiteError as exc:
            return await self._recover(req, exc, budget, idempotent=safe, options=options)

    async def recover(
        self,
        req: PreparedRequest,
        error: PracSuiteError,
        *,
        deadline: Deadline | None,
        options: CallOptions = DEFAULT_CALL_OPTIONS,
    ) -> Any:
        """Go on with a call whose first attempt's answer failed later, when it was read.

        A page the pager reads at its turn (an ``UnreadPage``) can turn out truncated; it
        gets the retries it would have had if it had been read on arrival.
        """
        seconds = options.deadline if deadline is None else deadline
        budget = self.budget(seconds, method=req.method, path=req.path)
        return await self._recover(
            req, error, budget, idempotent=req.endpoint.idempotent, options=options
        )

    async def _recover(
        self, req: PreparedRequest, error: PracSuiteError, budget: Deadline, *, idempotent: bool,
        options: CallOptions,
    ) -> Any:
        run = RetryRun(
            self.retry, error, idempotent=idempotent, budget=self._budget, deadline=budget, rng=self._rng,
            max_retries=options.max_retries,
        )
        if not run.admits():
            raise error
        return await self._retry_loop(req, budget, run, options)

    async def _retry_loop(
        self, req: PreparedRequest, budget: Deadline, run: RetryRun, options: CallOptions
    ) -> Any:
        async def sleep(seconds: float) -> None:
            run.check_fits(seconds)
            self.retries += 1
            if self._hooks:
                self._emit(
                    RetryScheduled(
                        req.endpoint.operation_id, req.method, req.endpoint.path,
                        attempt, seconds, type(run.last).__name__,
                    )
                )
            await self.clock.sleep(seconds)

        attempt = 0
        async for try_ in run.engine(sleep):
            attempt += 1
            with try_:
                if attempt == 1:
                    # Replaying the first failure lets tenacity own every wait decision.
                    raise run.last
                return await self._attempt(req, budget, attempt, options)
        raise AssertionError  # pragma: no cover - reraise=True always raises or returns

    async def _attempt(
        self, req: PreparedRequest, budget: Deadline, attempt: int, options: CallOptions
    ) -> Any:
        budget.ensure(what="attempt")
        # Fair turn -> concurrency slot -> rate token. The turn (_scheduler) decides by
        # lane and account who goes next, so it is taken before the slot: waiting for a
        # slot in arrival order would put one account's burst ahead of everyone. The
        # slot is taken before the token: a token taken while a request still waits for
        # a connection is spent later, in a burst above the limit.
        scheduler = self.scheduler
        try:
            await scheduler.acquire(options.account, options.priority, timeout=budget.remaining())
        except TimeoutError:
            budget.ensure(float("inf"), what="wait for a turn at the rate limiter")
            raise
        try:
            await self._take_slot(budget)
            try:
                if self._lanes:  # a shared limiter that orders lanes across processes too
                    waited = await self.limiter.acquire(budget, options.priority)  # type: ignore[call-arg]
                else:
                    waited = await self.limiter.acquire(budget)
            except BaseException:
                self._slots.release()
                raise
        finally:
            scheduler.release()
        try:
            return await self._send(req, budget, attempt, options, waited)
        finally:
            self._slots.release()

    async def _take_slot(self, budget: Deadline) -> None:
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

    async def _send(
        self, req: PreparedRequest, budget: Deadline, attempt: int, options: CallOptions, waited: float
    ) -> Any:
        endpoint = req.endpoint
        hooks = self._hooks
        if hooks:
            if waited:
                self._emit(RateLimitWait(endpoint.operation_id, req.method, endpoint.path, waited))
            self._emit(RequestSent(endpoint.operation_id, req.method, endpoint.path, attempt))
        timeout = self.timeout if options.timeout is None else options.timeout
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
                headers=_headers(options.headers or self._headers, json=req.body is not None),
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
        record_response(
            endpoint.operation_id, req.method, endpoint.path, status, resp.headers, attempt,
            self.clock.now() - started,
        )
        if hooks:
            self._emit(
                ResponseReceived(
                    endpoint.operation_id, req.method, endpoint.path, attempt, status,
                    self.clock.now() - started,
                )
            )
        out = decipher_response(
            endpoint, status, resp.headers, resp.body, method=req.method, path=req.path,
            wall_now=self.clock.wall(), defer_page=req.defer_page,
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
        """POST a file to a presigned storage URL: no API keys, no limiter, no retries; https only."""
        url = check_presigned_url(url, method="POST", what="<presigned upload>")
        resp = await self._external().post_form(
            url, fields=fields, file_name=file_name, content=content, timeout=self._external_timeout(deadline)
        )
        self._check_external(resp, "POST", "<presigned upload>")

    async def download_presigned(self, url: str, *, deadline: float | None) -> bytes:
        """GET a presigned storage URL, return the body: no API keys, no limiter, no retries; https only."""
        url = check_presigned_url(url, method="GET", what="<presigned download>")
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


def _headers(headers: SecretHeaders, *, json: bool) -> SecretHeaders:
    return headers.with_public(_JSON) if json else headers


_JSON = {"Content-Type": "application/json"}
