"""List walks against small hostile servers written here, not the simulator: every record once, or a typed error.

Each server answers ``GET /v1/appointment`` over a real loopback socket and breaks one assumption the API
never promised: an order, honouring ``page``, a sane ``total_entries``, a ``links.next``, integer ids.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from pracsuite_async import PaginationError, PracSuiteClient, ResponseDecodeError

#: ``page(number, size, query) -> (records, total_entries, has_next)``; total ``...`` leaves the key out.
PageFn = Callable[[int, int, "web.Request"], tuple[list[dict[str, Any]], object, bool]]


class Hostile:
    """One hostile list server on 127.0.0.1 and the queries it received."""

    def __init__(self, page: PageFn) -> None:
        self.page = page
        self.queries: list[dict[str, list[str]]] = []
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    async def handle(self, request: web.Request) -> web.Response:
        query = {key: request.query.getall(key) for key in request.query}
        self.queries.append(query)
        number = int(request.query.get("page", "1"))
        size = int(request.query.get("page_size", "50"))
        records, total, has_next = self.page(number, size, request)
        links = {"self": str(request.url)}
        if has_next:
            links["next"] = str(request.url.update_query(page=number + 1))
        body: dict[str, Any] = {"appointments": records, "links": links}
        if total is not ...:
            body["total_entries"] = total
        return web.json_response(body)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/appointment", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[PageFn], Any]]:
    """Start hostile servers on demand and a client bound to each; everything is closed afterwards."""
    opened: list[tuple[Hostile, PracSuiteClient]] = []

    async def start(page: PageFn) -> tuple[Hostile, PracSuiteClient]:
        server = Hostile(page)
        await server.start()
        client = PracSuiteClient("vendor-key", "account-key", base_url=server.base_url, rate_limit=10_000.0)
        opened.append((server, client))
        return server, client

    yield start
    for server, client in reversed(opened):
        await client.aclose()
        await server.close()


def records(ids: list[Any]) -> list[dict[str, Any]]:
    """Minimal appointment records with the given ids."""
    return [{"appointment_id": i, "client_id": 7} for i in ids]


def over(data: list[Any], *, total: Callable[[int], object] = lambda n: n, next_link: bool = True) -> PageFn:
    """Pages of ``data`` in the given order, with a chosen total_entries and (optionally) links.next."""

    def page(number: int, size: int, _request: web.Request) -> tuple[list[dict[str, Any]], object, bool]:
        chunk = data[(number - 1) * size : number * size]
        return records(chunk), total(len(data)), next_link and number * size < len(data)

    return page


async def ids_of(client: PracSuiteClient, **kwargs: Any) -> list[Any]:
    """Every appointment id of one walk."""
    return [a.appointment_id async for a in client.appointments.list(**kwargs)]


class TestOrder:
    @pytest.mark.parametrize(
        "order",
        [list(range(250, 0, -1)), [*range(2, 251, 2), *range(1, 250, 2)], [(i * 97) % 251 for i in range(1, 251)]],
        ids=["descending", "interleaved", "scrambled"],
    )
    async def test_server_ignoring_sort(self, serve: Any, order: list[int]) -> None:
        """A server that ignores sort_by and returns its own order still gives all 250 records, each once."""
        server, client = await serve(over(order))
        got = await ids_of(client, page_size=20, sort_by=["appointment_id"])
        assert got == order
        assert len(set(got)) == 250
        assert {json.loads(q["sort_by"][0])[0] for q in server.queries} == {"appointment_id"}

    async def test_no_sort_sent_unless_asked(self, serve: Any) -> None:
        """A plain walk sends no sort_by at all: there is no documented default to ask for."""
        server, client = await serve(over(list(range(50, 0, -1))))
        assert await ids_of(client, page_size=20) == list(range(50, 0, -1))
        assert all("sort_by" not in q for q in server.queries)

    async def test_sort_by_is_a_json_array(self, serve: Any) -> None:
        """sort_by arrives as one JSON array with the id tie-breaker appended."""
        server, client = await serve(over(list(range(1, 11))))
        await ids_of(client, sort_by=["updated", "app_time"])
        assert server.queries[0]["sort_by"] == ['["updated","app_time","appointment_id"]']


class TestPaging:
    async def test_server_ignoring_page(self, serve: Any) -> None:
        """A server answering page 1 to every page raises PaginationError instead of returning 100 of 500."""

        def page(_number: int, size: int, _request: web.Request) -> tuple[list[dict[str, Any]], object, bool]:
            return records(list(range(1, size + 1))), 500, True

        _, client = await serve(page)
        got: list[int] = []
        with pytest.raises(PaginationError) as info:
            await collect_into(client, got)
        assert info.value.page == 2
        assert got == list(range(1, 101))

    @pytest.mark.parametrize("total", [-5, True, "300", 2.5, None], ids=repr)
    async def test_malformed_total_with_next(self, serve: Any, total: object) -> None:
        """total_entries of -5, true, "300", 2.5 or null while links.next says more: all 300 records."""
        _, client = await serve(over(list(range(1, 301)), total=lambda _n: total))
        assert await ids_of(client) == list(range(1, 301))

    async def test_total_missing_with_next(self, serve: Any) -> None:
        """No total_entries at all: links.next is followed to the end."""
        _, client = await serve(over(list(range(1, 301)), total=lambda _n: ...))
        assert await ids_of(client) == list(range(1, 301))

    async def test_next_missing_while_total_says_more(self, serve: Any) -> None:
        """No links.next but total_entries says 300: every page the count implies is fetched."""
        _, client = await serve(over(list(range(1, 301)), next_link=False))
        assert await ids_of(client) == list(range(1, 301))

    async def test_total_too_small_with_next(self, serve: Any) -> None:
        """A total of 100 while links.next keeps going: the walk follows next to all 300."""
        _, client = await serve(over(list(range(1, 301)), total=lambda _n: 100))
        assert await ids_of(client) == list(range(1, 301))

    async def test_endless_next_stops_at_max_pages_loudly(self, serve: Any) -> None:
        """A server whose links.next never ends (new ids forever) raises at max_pages."""

        def page(number: int, size: int, _request: web.Request) -> tuple[list[dict[str, Any]], object, bool]:
            return records(list(range((number - 1) * size + 1, number * size + 1))), ..., True

        _, client = await serve(page)
        with pytest.raises(PaginationError):
            await ids_of(client, page_size=10, max_pages=4)

    async def test_resume_with_start_page(self, serve: Any) -> None:
        """start_page resumes a walk: pages before it are not requested."""
        server, client = await serve(over(list(range(1, 301))))
        assert await ids_of(client, start_page=2) == list(range(101, 301))
        assert [q["page"] for q in server.queries] == [["2"], ["3"]]


async def collect_into(client: PracSuiteClient, into: list[Any]) -> None:
    """Walk appointments into ``into`` so the items before an error stay visible."""
    async for item in client.appointments.list():
        into.append(item.appointment_id)


class TestIds:
    @pytest.mark.parametrize("bad", [None, "abc", {"id": 1}, [3]], ids=["null", "string", "object", "array"])
    async def test_malformed_ids_never_raise_type_error(self, serve: Any, bad: object) -> None:
        """Records with a null, string, object or array id never break the pager with a raw TypeError.

        Either the decoder rejects the record (ResponseDecodeError, naming the path) or the pager keeps it
        as an unkeyed record; the other records all arrive once.
        """
        data = [*range(1, 60), bad, *range(60, 120), bad, *range(120, 150)]
        _, client = await serve(over(data))
        got: list[Any] | ResponseDecodeError
        try:
            got = await ids_of(client, page_size=25)
        except ResponseDecodeError as exc:
            got = exc
        if isinstance(got, ResponseDecodeError):
            assert "appointment_id" in str(got)
            return
        assert [i for i in got if isinstance(i, int)] == list(range(1, 150))
        assert len(got) == 151
