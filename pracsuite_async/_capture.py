"""Raw access to responses: status, headers and request id of the calls made in a block.

Every method returns a typed model, so the HTTP details travel beside the result
instead of wrapping it: inside ``with capture_responses() as captured:`` each
response the calls of *this task* (and the tasks it starts, such as a pager's page
fetches) receive is recorded, successful or not. A :class:`~contextvars.ContextVar`
keeps concurrent handlers apart, and with no block open the pipeline pays one
``ContextVar.get``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

import attrs

__all__ = ["CapturedResponse", "Captures", "capture_responses", "record"]

#: Response headers that may carry a request id (the API documents it only in error bodies).
REQUEST_ID_HEADERS = ("X-Request-Id", "Request-Id", "X-Amzn-RequestId")


@attrs.frozen(slots=True)
class CapturedResponse:
    """One HTTP response: the operation, its path template, status, headers and timing.

    ``path`` is the operation's template (``/patient/{client_id}``), never the filled
    path, so a capture logged whole names no patient; ``headers`` are the response's
    (case-insensitive when the transport's are) and stay out of the repr.
    """

    operation_id: str
    method: str
    path: str
    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    attempt: int
    elapsed: float

    @property
    def request_id(self) -> str | None:
        """The server's request id when a response header carries one (quote it to support)."""
        for name in REQUEST_ID_HEADERS:
            value = self.headers.get(name)
            if value:
                return value
        return None


@attrs.define(slots=True)
class Captures:
    """The responses recorded inside one ``capture_responses()`` block, oldest first."""

    responses: list[CapturedResponse] = attrs.Factory(list)

    @property
    def last(self) -> CapturedResponse:
        """The most recent response (raises ``LookupError`` when none was received)."""
        if not self.responses:
            msg = "no response was received inside this capture_responses() block"
            raise LookupError(msg)
        return self.responses[-1]


_active: ContextVar[Captures | None] = ContextVar("pracsuite_capture", default=None)


@contextmanager
def capture_responses() -> Iterator[Captures]:
    """Record the responses of the calls made inside the block (this task and its children).

    Example::

        with capture_responses() as captured:
            appt = await client.appointments.get(1)
        print(captured.last.status, captured.last.headers.get("Date"))
    """
    captures = Captures()
    token = _active.set(captures)
    try:
        yield captures
    finally:
        _active.reset(token)


def record(  # noqa: PLR0917 - called once per response on the hot path: no keyword overhead
    operation_id: str,
    method: str,
    path: str,
    status: int,
    headers: Mapping[str, str],
    attempt: int,
    elapsed: float,
) -> None:
    """Called by the pipeline for every response; a no-op outside a capture block."""
    captures = _active.get()
    if captures is not None:
        captures.responses.append(
            CapturedResponse(operation_id, method, path, status, headers, attempt, elapsed)
        )
