"""The one generic machinery behind every resource method.

Generated resource methods are a typed signature, a docstring and one line that
hands ``locals()`` to :meth:`Namespace._call` or :meth:`Namespace._list`; this module
turns that into a validated request, a pipeline call and typed models.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import attrs

from pracsuite_async._clock import Deadline, check_deadline
from pracsuite_async._converter import decodes_int
from pracsuite_async._endpoints import Endpoint
from pracsuite_async._errors import PracSuiteError
from pracsuite_async._options import CallOptions
from pracsuite_async._pagination import DEFAULT_MAX_PAGES, Page, Pager, walk_deadline
from pracsuite_async._response import ListBody, UnreadPage
from pracsuite_async._wire import PreparedRequest, build_request, page_request

if TYPE_CHECKING:
    from pracsuite_async._client import PracSuiteClient

T = TypeVar("T")

__all__ = ["Namespace"]


class Namespace:
    """Base of every resource namespace (``client.appointments``, ``client.patients``, ...)."""

    __slots__ = ("_client",)

    def __init__(self, client: PracSuiteClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    async def _call(self, endpoint: Endpoint[T], args: Mapping[str, object]) -> T:
        """Validate, send and decode a single-response operation.

        ``args["deadline"]`` is seconds, ``None`` (the client's default) or, from the
        multi-request helpers, the :class:`Deadline` of the operation the call is part of.
        """
        client = self._client
        client._ensure_usable()  # the client's own lifecycle
        req = build_request(endpoint, args)
        result = await client._pipeline.call(  # the client's own machinery; decoded by _response
            req,
            deadline=cast("float | Deadline | None", args.get("deadline")),
            idempotent=cast("bool | None", args.get("idempotent")),
            options=client._call_options(args),
        )
        return cast("T", None if endpoint.result is None else result)

    def _list(self, endpoint: Endpoint[T], args: Mapping[str, object]) -> Pager[T]:
        """A :class:`Pager` over a paginated list operation; arguments are validated now.

        An explicit ``deadline`` bounds each whole walk (one :class:`Deadline` shared by
        all its page fetches, from the first fetch to the last item); without one, each
        page fetch gets the client's default deadline, as a walk has no natural length.
        """
        client = self._client
        client._ensure_open()  # the client's own lifecycle
        page_size = cast("int", args.get("page_size", 100))  # validated once, by the Pager
        # Validated once, before iteration (fail fast); each page only changes its number.
        first = build_request(endpoint, args, page=1, page_size=page_size, defer_page=True)
        pipeline = client._pipeline  # the client's own machinery
        options = client._call_options(args)
        given = args.get("deadline")
        seconds = None if isinstance(given, Deadline) else check_deadline(given)

        def start() -> Deadline:
            if isinstance(given, Deadline):
                return given  # part of a larger operation: shared, never restarted
            return pipeline.budget(seconds, method=first.method, path=first.path)

        async def fetch(number: int, size: int) -> _UnreadPage[T]:
            client._ensure_usable()
            req = page_request(first, number, size)
            deadline = walk_deadline()
            with client._owned_task():
                unread = await pipeline.call(req, deadline=deadline, idempotent=None, options=options)
            return _UnreadPage(number, unread, client, req, deadline, options)

        return Pager(
            fetch,
            page_size=page_size,
            window=self._client.page_window,
            ordered=cast("bool", args.get("ordered", True)),
            max_items=cast("int | None", args.get("max_items")),
            key=_id_key(endpoint),
            start_page=cast("int", args.get("start_page", 1)),
            max_pages=cast("int | None", args.get("max_pages", DEFAULT_MAX_PAGES)),
            deadline=start if given is not None else None,
        )


@attrs.frozen(slots=True)
class _UnreadPage(Generic[T]):
    """A fetched page, read (decoded) at its turn in the walk: see :class:`UnreadPage`."""

    number: int
    unread: UnreadPage
    client: PracSuiteClient = attrs.field(repr=False)
    req: PreparedRequest = attrs.field(repr=False)
    deadline: Deadline | None = attrs.field(repr=False)
    options: CallOptions = attrs.field(repr=False)

    async def load(self) -> Page[T]:
        try:
            body: ListBody[T] = self.unread.read()
        except PracSuiteError as exc:
            # A body that fails only when read (a truncated page) gets the retries it
            # would have had if it had been read on arrival.
            self.client._ensure_usable()
            req = attrs.evolve(self.req, defer_page=False)
            pipeline = self.client._pipeline  # the client's own machinery
            body = await pipeline.recover(req, exc, deadline=self.deadline, options=self.options)
        # A malformed total (-5, true, "3") arrives as None: the Pager then follows
        # links.next instead of truncating the walk.
        return Page(self.number, body.items, body.total_entries, body.has_next)


def _id_key(endpoint: Endpoint[Any]) -> Callable[[Any], int | None] | None:
    """The dedupe key of a record: its id when that is an integer, else ``None`` (never dropped)."""
    field = endpoint.id_field
    if field is None:
        return None
    if endpoint.result is not None and decodes_int(endpoint.result, field):
        # Decoding already refused a missing, null or non-integer id: a plain C-level
        # getter (~3x cheaper per page than the checking key below).
        return operator.attrgetter(field)

    def key(item: Any) -> int | None:
        value = getattr(item, field, None)
        # A null, string or object id must not break the walk (or be mistaken for
        # another record's id); such a record is kept as it is.
        return value if type(value) is int else None

    return key
