"""Shared fixtures: sentinel keys, a fake clock and clients over a fake transport."""

from __future__ import annotations

import gc
import os
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings

from pracsuite_async import PracSuiteClient
from pracsuite_async._endpoints import Endpoint
from pracsuite_async._wire import PreparedRequest
from pracsuite_async.testing import FakeClock, FakeTransport
from pracsuite_async.testing._fakes import Handler

# No test reads or writes the user's remembered rate limits; tests of that feature opt in with a tmp dir.
os.environ["PRACSUITE_REMEMBER_LIMIT"] = "0"

# Property tests replay the same examples on every run and worker and write no example database into
# the checkout (two xdist workers would share it); the fuzz scales up with --fuzz-examples instead.
settings.register_profile("pracsuite", derandomize=True, database=None)
settings.load_profile("pracsuite")

VENDOR_KEY = "vendor-SENTINEL-7f3a9c"
ACCOUNT_KEY = "account-SENTINEL-91bc44"

GET_THING: Endpoint[None] = Endpoint(
    operation_id="getThing",
    method="GET",
    path="/thing/{thing_id}",
    path_params=("thing_id",),
    result=None,
    namespace="things",
    method_name="get",
    summary="A test operation.",
)
POST_THING: Endpoint[None] = Endpoint(
    operation_id="createThing",
    method="POST",
    path="/thing",
    path_params=(),
    result=None,
    namespace="things",
    method_name="create",
    summary="A test write.",
    success_status=201,
)


def prepared(endpoint: Endpoint[Any] = GET_THING, path: str = "/thing/1") -> PreparedRequest:
    """A ready request for the pipeline tests."""
    body = b"{}" if endpoint.method != "GET" else None
    return PreparedRequest(endpoint, endpoint.method, path, [], body)


@pytest.fixture
def clock() -> FakeClock:
    """A virtual clock."""
    return FakeClock()


MakeClient = Callable[..., tuple[PracSuiteClient, FakeTransport]]


@pytest.fixture
def make_client(clock: FakeClock) -> MakeClient:
    """Build a client over a FakeTransport answering with ``handler``."""

    def make(handler: Handler, **kwargs: Any) -> tuple[PracSuiteClient, FakeTransport]:
        transport = FakeTransport(handler)
        kwargs.setdefault("rate_limit", 1000.0)
        kwargs.setdefault("rng", random.Random(7))
        client = PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, transport=transport, clock=clock, **kwargs)
        return client, transport

    return make


def pytest_addoption(parser: pytest.Parser) -> None:
    """Knobs for longer runs of the fuzz and the soak (#12); the environment variables work too."""
    parser.addoption(
        "--fuzz-examples", type=int, default=None,
        help="hypothesis examples of the response fuzz (tests/test_fuzz.py); env PRACSUITE_FUZZ_EXAMPLES",
    )
    parser.addoption(
        "--soak-seconds", type=float, default=None,
        help="seconds of the soak (tests/test_soak.py, default 120); env PRACSUITE_SOAK_SECONDS",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist (``make test``), the soak goes first: it holds one worker while the other runs the rest.

    ``--dist worksteal`` hands each worker a contiguous half of this order and rebalances by
    stealing, so the soak starts at once and the rest of the suite overlaps it. Serial runs keep
    the file order (``-x`` fails fast before two minutes of soak).
    """
    if not hasattr(config, "workerinput"):
        return
    items.sort(key=lambda item: item.path.name != "test_soak.py")  # stable: the rest keep their order


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish() -> None:
    """Freeze the heap the tests leave, so the interpreter's exit does not traverse it again and again.

    At exit CPython runs several full garbage collections while it clears modules; over the
    suite's few hundred thousand remaining objects they took seconds per process, on each worker.
    """
    gc.freeze()
