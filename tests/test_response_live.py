"""The one response path against a hostile loopback server: malformed envelopes raise, never read as empty."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from pracsuite_async import (
    NotFoundError,
    PracSuiteClient,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
)
from tests.hostile import web_server

FOUNDING = {
    "appointment_id": 10,
    "client_id": 20,
    "app_time": "2019-08-24T14:15:22Z",
    "duration": 30,
    "created": "2019-08-24T14:15:22Z",
    "links": {"self": "https://api.pracsuite.com/v1/appointment/10"},
}

#: path -> (status, body) served verbatim; each test picks the route it needs.
ROUTES: dict[str, tuple[int, Any]] = {
    "/appointment": (200, {"error": {"status": 500, "code": "INTERNAL"}, "request_id": "r-1"}),
    "/appointment/1": (200, {"error": {"status": 404, "code": "NOT_FOUND"}, "request_id": "r-2"}),
    "/appointment/10": (200, FOUNDING),
    "/business": (200, {"data": [{"business_id": 1}], "total_entries": 1}),
    "/profession": (200, {}),
    "/pronoun": (200, {"pronouns": [{"pronoun_id": "7"}], "total_entries": 1}),
    "/sex": (200, {"sexes": [{"sex_id": None}], "total_entries": 1}),
    "/patient_attachment/5/presign_url": (200, {"url": None}),
}

MakeClient = Callable[[], PracSuiteClient]


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """A client (one attempt per call) over a loopback server answering from ROUTES."""

    async def handle(request: web.Request) -> web.Response:
        status, body = ROUTES[request.path]
        return web.Response(status=status, body=json.dumps(body).encode(), content_type="application/json")

    clients: list[PracSuiteClient] = []
    async with web_server(handle) as url:

        def make() -> PracSuiteClient:
            client = PracSuiteClient("vendor-key", "account-key", base_url=url, retry=RetryPolicy(max_attempts=1))
            clients.append(client)
            return client

        yield make
        for client in clients:
            await client.aclose()


async def test_error_envelope_in_a_200_list_raises(make_client: MakeClient) -> None:
    """An error envelope inside a 200 list response is the error it describes, not an empty walk."""
    with pytest.raises(ServerError) as info:
        await make_client().appointments.list().collect()
    assert (info.value.code, info.value.request_id) == ("INTERNAL", "r-1")


async def test_error_envelope_in_a_200_get_raises(make_client: MakeClient) -> None:
    """An error envelope inside a 200 get is a NotFoundError, not a model of Nones."""
    with pytest.raises(NotFoundError):
        await make_client().appointments.get(1)


@pytest.mark.parametrize(
    ("walk", "problem"),
    [
        ("businesses", "missing @ $.businesses"),
        ("professions", "missing @ $.professions"),
        ("pronouns", "expected an integer @ $.pronouns[0].pronoun_id"),
        ("sexes", "required, missing or null @ $.sexes[0].sex_id"),
    ],
)
async def test_malformed_pages_raise_decode_errors(make_client: MakeClient, walk: str, problem: str) -> None:
    """A list under the wrong key, {} or a bad id is a ResponseDecodeError naming the path, never a TypeError."""
    with pytest.raises(ResponseDecodeError) as info:
        await getattr(make_client(), walk).list().collect()
    assert info.value.problems == (problem,)


async def test_founding_document_appointment_decodes(make_client: MakeClient) -> None:
    """The founding document's appointment (app_time with a Z) decodes to the naive wall-clock time."""
    appointment = await make_client().appointments.get(10)
    assert appointment.appointment_id == 10
    assert appointment.app_time is not None
    assert appointment.app_time.isoformat() == "2019-08-24T14:15:22"


async def test_missing_presigned_url_is_a_decode_error(make_client: MakeClient) -> None:
    """A presign answer without a URL is a ResponseDecodeError at $.url, not an invented 502."""
    with pytest.raises(ResponseDecodeError) as info:
        await make_client().patient_attachments.download_content(5)
    assert info.value.problems == ("missing @ $.url",)
