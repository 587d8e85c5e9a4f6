"""The call-boundary events: CallStarted / CallFinished bracket every call, in the calling task."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pracsuite_async import (
    CallFinished,
    CallStarted,
    Event,
    LoggingHook,
    NotFoundError,
    RequestSent,
    ResponseReceived,
    RetryScheduled,
)
from pracsuite_async._transport import RawResponse
from pracsuite_async.testing import FakeClock, RecordedRequest, json_response
from tests.conftest import MakeClient, prepared


class TestCallEvents:
    async def test_a_retried_call_is_bracketed_once(self, make_client: MakeClient, clock: FakeClock) -> None:
        """One CallStarted first and one CallFinished last, around every attempt and retry, with the call's time."""
        answers = [json_response(502, {}), json_response(200, {"ok": True})]
        events: list[Event] = []
        client, _ = make_client(lambda r: answers.pop(0), event_hooks=[events.append])
        started = clock.now()
        await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        kinds = [type(e) for e in events]
        assert kinds == [
            CallStarted, RequestSent, ResponseReceived, RetryScheduled, RequestSent, ResponseReceived, CallFinished,
        ]
        assert events[0] == CallStarted("getThing", "GET", "/thing/{thing_id}")
        finished = events[-1]
        assert isinstance(finished, CallFinished)
        assert finished.error is None
        assert finished.path == "/thing/{thing_id}"
        assert finished.elapsed == pytest.approx(clock.now() - started)
        assert finished.elapsed > 0  # the backoff sleep is inside the call

    async def test_a_failed_call_names_its_error(self, make_client: MakeClient) -> None:
        """CallFinished carries the exception's class name when the call raises."""
        events: list[Event] = []
        client, _ = make_client(lambda r: json_response(404, {}), event_hooks=[events.append])
        with pytest.raises(NotFoundError):
            await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        assert isinstance(events[-1], CallFinished)
        assert events[-1].error == "NotFoundError"

    async def test_a_cancelled_call_still_finishes_in_its_own_task(self, make_client: MakeClient) -> None:
        """Cancellation emits CallFinished(error="CancelledError"), from the task that started the call."""
        gate = asyncio.Event()
        tasks: list[tuple[str, asyncio.Task[object] | None]] = []

        async def stall(req: RecordedRequest) -> RawResponse:
            gate.set()
            await asyncio.Event().wait()
            raise AssertionError

        def hook(event: Event) -> None:
            tasks.append((type(event).__name__, asyncio.current_task()))

        client, _ = make_client(stall, event_hooks=[hook])
        call = asyncio.create_task(client._pipeline.call(prepared(), deadline=None, idempotent=None))
        await gate.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert [name for name, _ in tasks] == ["CallStarted", "RequestSent", "CallFinished"]
        assert {task for _, task in tasks} == {call}

    async def test_logging_hook_logs_the_end_of_a_call(
        self, make_client: MakeClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        """LoggingHook logs CallFinished at DEBUG (method, template, time, error) and skips CallStarted."""
        client, _ = make_client(lambda r: json_response(200, {}), event_hooks=[LoggingHook()])
        with caplog.at_level(logging.DEBUG, logger="pracsuite_async"):
            await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        messages = [r.getMessage() for r in caplog.records]
        assert messages[0].startswith("send GET /thing/{thing_id}")
        assert messages[-1].startswith("done GET /thing/{thing_id}")
        assert messages[-1].endswith("error=None")
        assert len(messages) == 3
