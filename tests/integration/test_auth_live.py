"""Authentication against the simulator: wrong keys, missing keys, and errors that never carry a key."""

from __future__ import annotations

import pickle

import aiohttp
import pytest

from pracsuite_async import AuthenticationError, PermissionDeniedError, PracSuiteError
from pracsuite_async.simulator import Simulator
from tests.integration.conftest import ACCOUNT_KEY, VENDOR_KEY, MakeClient

WRONG_VENDOR_KEY = "vendor-WRONG-5e1d0c"
WRONG_ACCOUNT_KEY = "account-WRONG-a9f2b7"


def _leaks(exc: BaseException, *secrets: str) -> list[str]:
    """Every rendering of ``exc`` that contains one of ``secrets``."""
    renderings = {
        "str": str(exc),
        "repr": repr(exc),
        "args": repr(exc.args),
        "vars": repr(vars(exc)),
        "pickle": pickle.dumps(exc).decode("latin-1"),
        "cause": repr(exc.__cause__),
        "context": repr(exc.__context__),
    }
    return [name for name, text in renderings.items() for secret in secrets if secret in text]


async def test_wrong_vendor_key_is_an_authentication_error(sim: Simulator, make_client: MakeClient) -> None:
    """A wrong vendor key gives ``AuthenticationError`` (401 ``UNAUTHORIZED``), sent once and not retried."""
    client = make_client(sim, vendor_key=WRONG_VENDOR_KEY)
    with pytest.raises(AuthenticationError) as caught:
        await client.patients.get(1)
    exc = caught.value
    assert (exc.status, exc.code) == (401, "UNAUTHORIZED")
    assert exc.request_id
    assert sim.stats.by_status == {401: 1}
    assert _leaks(exc, WRONG_VENDOR_KEY, ACCOUNT_KEY) == []


async def test_wrong_account_key_is_an_authentication_error(sim: Simulator, make_client: MakeClient) -> None:
    """A wrong account key is rejected the same way, on a list walk too, and the error holds neither key."""
    client = make_client(sim, account_key=WRONG_ACCOUNT_KEY)
    with pytest.raises(AuthenticationError) as caught:
        await client.appointments.list().collect()
    assert caught.value.status == 401
    assert _leaks(caught.value, VENDOR_KEY, WRONG_ACCOUNT_KEY) == []


async def test_missing_account_key_is_forbidden_on_the_wire(sim: Simulator) -> None:
    """A raw request without ``A-api-key`` is answered 403 ``MISSING_AUTHENTICATION_TOKEN``."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sim.base_url}/patient", headers={"x-api-key": VENDOR_KEY}) as resp,
    ):
        body = await resp.json()
    assert resp.status == 403
    assert body["error"]["code"] == "MISSING_AUTHENTICATION_TOKEN"
    assert VENDOR_KEY not in repr(body)


async def test_client_maps_a_missing_key_to_permission_denied(
    sim: Simulator, make_client: MakeClient
) -> None:
    """When a proxy strips the account key on the way, the client raises ``PermissionDeniedError`` (403)
    without the remaining key in it."""

    async def strip_account_key(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        request.headers.pop("A-api-key", None)
        return await handler(request)

    async with aiohttp.ClientSession(middlewares=(strip_account_key,)) as session:
        client = make_client(sim, session=session)
        with pytest.raises(PermissionDeniedError) as caught:
            await client.businesses.get(1)
    exc = caught.value
    assert (exc.status, exc.code) == (403, "MISSING_AUTHENTICATION_TOKEN")
    assert isinstance(exc, PracSuiteError)
    assert sim.stats.by_status == {403: 1}
    assert _leaks(exc, VENDOR_KEY, ACCOUNT_KEY) == []


def test_leak_check_detects_a_key() -> None:
    """The leak check finds a key that an error does carry, so the checks above can fail."""
    assert _leaks(PracSuiteError(f"x-api-key={VENDOR_KEY}"), VENDOR_KEY) != []
