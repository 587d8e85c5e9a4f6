"""Fixtures for the simulator tests: a manual clock, a running simulator and a spec-validating client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from pracsuite_async.simulator import Simulator, SimulatorConfig
from tools.codegen.schema import load_spec

KEYS = {"x-api-key": "sim-vendor-key", "A-api-key": "sim-account-key"}
SPEC_HOST = "https://api.pracsuite.com"


class ManualClock:
    """A clock that only moves when told to (monotonic seconds)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSleep:
    """An ``asyncio.sleep`` stand-in that records delays and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class _Request:
    """openapi-core request adapter for a call the test made (paths are mapped onto the spec's server)."""

    def __init__(self, method: str, path: str, query: list[tuple[str, str]], body: bytes | None) -> None:
        self.host_url = SPEC_HOST
        self.path = "/v1" + path
        self.method = method.lower()
        self.body = body
        self.content_type = "application/json"
        self.parameters = RequestParameters(query=ImmutableMultiDict(query), header=Headers(KEYS))


class _Response:
    """openapi-core response adapter."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status_code = status
        self.headers = Headers(list(headers.items()))
        self.content_type = headers.get("Content-Type", "application/json").split(";")[0]
        self.data = body


class Reply:
    """What a call returned: status, headers, raw bytes and parsed JSON (or None)."""

    def __init__(self, status: int, headers: Mapping[str, str], raw: bytes) -> None:
        self.status = status
        self.headers = headers
        self.raw = raw
        self.json: Any = None
        if raw and headers.get("Content-Type", "").startswith("application/json"):
            try:
                self.json = json.loads(raw)
            except ValueError:  # a badjson fault: keep the raw bytes only
                self.json = None

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.raw[:200]!r}>"


class Api:
    """Calls a running simulator and validates every documented response against the spec."""

    def __init__(self, sim: Simulator, session: aiohttp.ClientSession, openapi: OpenAPI) -> None:
        self.sim = sim
        self.session = session
        self.openapi = openapi

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | dict[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        validate: bool = True,
    ) -> Reply:
        query = list(params.items()) if isinstance(params, dict) else list(params or [])
        data = None if body is None else json.dumps(body).encode()
        send_headers = dict(KEYS if headers is None else headers)
        if data is not None:
            send_headers["Content-Type"] = "application/json"
        async with self.session.request(
            method,
            self.sim.base_url + path,
            params=query,
            data=data,
            headers=send_headers,
            allow_redirects=False,
        ) as resp:
            reply = Reply(resp.status, dict(resp.headers), await resp.read())
        if validate:
            self.validate(method, path, query, data, reply)
        return reply

    def validate(
        self, method: str, path: str, query: list[tuple[str, str]], data: bytes | None, reply: Reply
    ) -> None:
        self.openapi.validate_response(
            _Request(method, path.split("?", maxsplit=1)[0], query, data),
            _Response(reply.status, reply.headers, reply.raw),
        )

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return await self.call("POST", path, body={} if body is None else body, **kwargs)

    async def patch(self, path: str, body: Any, **kwargs: Any) -> Reply:
        return await self.call("PATCH", path, body=body, **kwargs)


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    """The PracSuite reference spec, loaded once (its validity is tested once, in tests/test_spec_vendored.py)."""
    return OpenAPI.from_dict(load_spec(), config=Config(spec_validator_cls=None))


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """The raw spec document."""
    return load_spec()


@pytest.fixture
def sim_clock() -> ManualClock:
    """A manual monotonic clock for the simulator."""
    return ManualClock()


MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api(openapi: OpenAPI) -> AsyncIterator[MakeApi]:
    """Start simulators on demand (``await make_api(records=300, rate=2)``) and stop them afterwards."""
    started: list[tuple[Simulator, aiohttp.ClientSession]] = []

    async def make(**config: Any) -> Api:
        config.setdefault("records", 400)
        sim = Simulator(SimulatorConfig(**config))
        await sim.start()
        session = aiohttp.ClientSession()
        started.append((sim, session))
        return Api(sim, session, openapi)

    yield make
    for sim, session in started:
        await session.close()
        await sim.close()


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    """A simulator with default settings (400 appointments) and a validating client."""
    return await make_api()
