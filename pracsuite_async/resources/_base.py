"""The one generic machinery behind every resource method.

Generated resource methods are a typed signature, a docstring and one line that
hands ``locals()`` to :meth:`Resource._call` or :meth:`Resource._list`; this module
turns that into a validated request, a pipeline call and typed models.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, TypeVar, cast

from pracsuite_async._endpoints import Endpoint
from pracsuite_async._pagination import Page, Pager
from pracsuite_async._response import ListBody
from pracsuite_async._wire import build_request

if TYPE_CHECKING:
    from pracsuite_async._client import PracSuiteClient

T = TypeVar("T")

__all__ = ["Resource"]


class Resource:
    """Base of every resource namespace (``client.appointments``, ``client.patients``, ...)."""

    __slots__ = ("_client",)

    def __init__(self, client: PracSuiteClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    async def _call(self, endpoint: Endpoint[T], args: Mapping[str, object]) -> T:
        """Validate, send and decode a single-response operation."""
        req = build_request(endpoint, args)
        result = await self._client._pipeline.call(  # the client's own machinery; decoded by _response
            req,
            deadline=cast("float | None", args.get("deadline")),
            idempotent=cast("bool | None", args.get("idempotent")),
        )
        return cast("T", None if endpoint.result is None else result)

    def _list(self, endpoint: Endpoint[T], args: Mapping[str, object]) -> Pager[T]:
        """A :class:`Pager` over a paginated list operation; arguments are validated now."""
        page_size = cast("int", args.get("page_size", 100))  # validated once, by the Pager
        build_request(endpoint, args, page=1, page_size=page_size)  # fail fast, before iteration
        pipeline = self._client._pipeline  # the client's own machinery
        deadline = cast("float | None", args.get("deadline"))

        async def fetch(number: int, size: int) -> Page[T]:
            req = build_request(endpoint, args, page=number, page_size=size)
            body: ListBody[T] = await pipeline.call(req, deadline=deadline, idempotent=None)
            return Page(number, body.items, body.total_entries, body.has_next)

        ordered = cast("bool", args.get("ordered", True))
        # Only a walk that build_request sorted by the id (a sortable list without
        # sort_by) is in ascending id order; any other walk drops duplicates by
        # remembering recent keys.
        id_sorted = endpoint.sortable and endpoint.id_field is not None and not args.get("sort_by")
        return Pager(
            fetch,
            page_size=page_size,
            window=self._client.page_window,
            ordered=ordered,
            max_items=cast("int | None", args.get("max_items")),
            key=attrgetter(endpoint.id_field) if endpoint.id_field else None,
            key_ascending=id_sorted and ordered,
        )
