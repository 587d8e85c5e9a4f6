"""Fuzz of the response path: every malformed response is a typed error or a valid result (#12).

Responses are generated from the spec's response schemas (``tests/strategies.py``) and then
broken: wrong types, missing or null fields and ids, huge strings, deep nesting, non-JSON and
empty bodies, wrong content types, broken list envelopes, error envelopes inside a 2xx, garbage
rate headers and every status code. They are fed to the sans-I/O decoder
(:func:`~pracsuite_async._response.decipher_response`), to the public client over a
:class:`~pracsuite_async.testing.FakeTransport` (retries and list walks included, on a fake
clock) and, for what only real bytes can show (oversized and chunked bodies), to a client over
loopback. The outcome must be a :class:`PracSuiteError` or a result, never a ``TypeError``,
``KeyError``... and no error text may hold a value the server sent (patient data).

Runs are deterministic (``derandomize=True``); ``--fuzz-examples N`` or
``PRACSUITE_FUZZ_EXAMPLES=N`` scales the number of examples for a longer hunt.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import functools
import inspect
import json
import os
import random
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from pracsuite_async import OPERATIONS, PracSuiteClient, PracSuiteError, ResponseTooLargeError, RetryPolicy
from pracsuite_async._endpoints import Endpoint
from pracsuite_async._response import decipher_response
from pracsuite_async._transport import RawResponse
from pracsuite_async.testing import FakeClock, FakeTransport
from tests import strategies
from tests.hostile import web_server

#: Values the mutations plant; none of them may appear in an error's text.
MARKER = "PATIENT-Qz7x"
BIG_INT = 86_753_090_123_457
ODD_FLOAT = 31_415.926_535
PLANTED = (MARKER, str(BIG_INT), "31415.92")

#: Operations that read: every GET with a JSON result model (get and list, paginated or not); the
#: attachment download answers with a redirect, not a body.
READS: dict[str, Endpoint[Any]] = {
    op_id: ep
    for op_id, ep in OPERATIONS.items()
    if ep.method == "GET" and ep.result is not None and strategies.response_item_schema(op_id) is not None
}
_LIST_READS = sorted(op for op, ep in READS.items() if ep.list_key is not None)

#: Outcomes the generated responses must reach, so that the oracle is exercised on each.
EXPECTED_OUTCOMES = {"value", "ResponseDecodeError", "ServerError", "NotFoundError", "APIStatusError"}

DEFAULT_EXAMPLES = {"decipher": 250, "client": 100, "wire": 25}


def _examples(config: pytest.Config, which: str) -> int:
    given_n = config.getoption("--fuzz-examples", None) or os.environ.get("PRACSUITE_FUZZ_EXAMPLES")
    if not given_n:
        return DEFAULT_EXAMPLES[which]
    return max(1, int(given_n) * DEFAULT_EXAMPLES[which] // DEFAULT_EXAMPLES["decipher"])


def _full(config: pytest.Config, which: str) -> bool:
    """Whether the run is at least the default size, so the coverage of outcomes can be required."""
    return _examples(config, which) >= DEFAULT_EXAMPLES[which]


def _settings(config: pytest.Config, which: str) -> settings:
    return settings(
        max_examples=_examples(config, which),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


# ---- generated responses --------------------------------------------------------------------

_wrong_values = st.sampled_from(
    [
        MARKER,
        BIG_INT,
        -BIG_INT,
        ODD_FLOAT,
        True,
        [MARKER],
        {"value": MARKER},
        {"value": [BIG_INT, {"deeper": MARKER}]},
        MARKER * 20_000,  # a huge string
        "",
        f"{BIG_INT}",
        "2026-13-45T99:99:99",
        "NaN",
    ]
)


def _nested(depth: int) -> Any:
    value: Any = MARKER
    for i in range(depth):
        value = [value] if i % 2 else {"n": value}
    return value


def _slots(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (dict key or list index) inside ``data``, the root excluded."""
    out: list[tuple[Any, ...]] = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        out.append((*path, key))
        out.extend(_slots(value, (*path, key)))
    return out


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


@st.composite
def _mutated(draw: st.DrawFn, payload: Any) -> Any:
    """A copy of ``payload`` with one to three values wrong, gone, null, huge or deeply nested."""
    # Copies: the drawn values may be shared (sampled constants), and drawing must not change them.
    payload = copy.deepcopy(payload)
    for _ in range(draw(st.integers(1, 3))):
        slots = _slots(payload)
        if not slots:
            return copy.deepcopy(draw(_wrong_values))
        path = draw(st.sampled_from(slots))
        parent, key = _at(payload, path[:-1]), path[-1]
        how = draw(st.sampled_from(["delete", "null", "wrong", "nest"]))
        if how == "delete" and isinstance(parent, dict):
            del parent[key]
        elif how == "null":
            parent[key] = None
        elif how == "nest":
            parent[key] = _nested(draw(st.sampled_from([3, 50, 400])))
        else:
            parent[key] = copy.deepcopy(draw(_wrong_values))
    return payload


@functools.cache
def _record(op_id: str) -> st.SearchStrategy[dict[str, Any]]:
    schema = strategies.response_item_schema(op_id)
    assert schema is not None, op_id
    return strategies.objects(schema)


@functools.cache
def _valid(op_id: str) -> st.SearchStrategy[Any]:
    """A response body the spec allows for ``op_id``: the record, or the list envelope of records."""
    endpoint = READS[op_id]
    record = _record(op_id)
    if endpoint.list_key is None:
        return record
    links = st.sampled_from([{"self": "x"}, {"self": "x", "next": "https://api/next"}, None])
    return st.builds(
        lambda items, total, links: {endpoint.list_key: items, "total_entries": total, "links": links},
        st.lists(record, max_size=2),
        st.none() | st.integers(0, 5),
        links,
    )


@functools.cache
def _broken_envelope(op_id: str) -> st.SearchStrategy[Any]:
    """List envelopes without their list, with a non-list, with garbage counts and links."""
    key = READS[op_id].list_key or "data"
    record = _record(op_id)
    return st.one_of(
        st.just({}),
        st.just({"total_entries": 3, "links": {"next": "x"}}),
        record.map(lambda r: {key: r, "total_entries": 1}),  # an object, not a list
        _wrong_values.map(lambda v: {key: v}),
        st.lists(record, max_size=2),  # a bare list
        st.builds(
            lambda items, total, links: {key: items, "total_entries": total, "links": links},
            st.lists(record, max_size=2),
            st.sampled_from([-1, True, "3", MARKER, 10**30, 2.5, None]),
            st.sampled_from([MARKER, [1], {"next": [MARKER]}, {"next": BIG_INT}, 0]),
        ),
    )


def _error_envelope(status: int | None = None) -> st.SearchStrategy[Any]:
    """The error envelope with a status, the patient's name in the free text, or garbage in its fields."""
    code = st.sampled_from([None, "NOT_FOUND", "QUOTA_EXCEEDED", "RESERVE_APPOINTMENT_CONFLICT", 7, ["x"]])
    inner = st.fixed_dictionaries(
        {},
        optional={
            "status": st.just(status) if status else st.sampled_from([404, 409, 429, 500, 200, 99, "500", None]),
            "code": code,
            "detail": st.sampled_from([MARKER, None, 5, [MARKER]]),
            "title": st.just(MARKER),
            "validation": st.sampled_from(
                [[{"field": "surname", "message": MARKER}], [MARKER, 3, None], {"field": "x"}, MARKER]
            ),
        },
    )
    return st.fixed_dictionaries(
        {"error": inner | _wrong_values}, optional={"request_id": st.sampled_from(["req-1", 5, None])}
    )


_garbage_bodies = st.one_of(
    st.sampled_from(
        [
            b"",
            b"<html><body>502 Bad Gateway</body></html>",
            b"<html><body>Dear " + MARKER.encode() + b"</body></html>",
            b"null",
            b"[]",
            b'"' + MARKER.encode() + b'"',
            str(BIG_INT).encode(),
            b"\xff\xfe{\x00}",
            b"\x00" * 64,
            b"{" * 5000 + b"}" * 5000,  # deeper than any JSON decoder nests
            b"[" * 100_000,
            b'{"surname": "' + MARKER.encode() + b'",',  # truncated
            b'{"a": NaN, "b": Infinity}',
            b'{"a": 1e999999}',
            b'{"a": "\\ud800"}',  # a lone surrogate
        ]
    ),
    st.binary(max_size=64),
)

_content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/html; charset=latin-1",
        "text/plain",
        "application/octet-stream",
        "application/json; charset=utf-16",
        "",
        None,
    ]
)

_rate_header_values = st.sampled_from(
    ["", "-1", "0", "1", "1e309", "nan", MARKER, str(BIG_INT), "Wed, 21 Oct 2015 07:28:00 GMT", "3.5", " 2 "]
)


@functools.cache
def responses(op_id: str) -> st.SearchStrategy[RawResponse]:
    """Responses to ``op_id`` (one strategy per operation, built once)."""
    return _responses(op_id)


@st.composite
def _responses(draw: st.DrawFn, op_id: str) -> RawResponse:
    """A response to ``op_id``: valid, mutated, broken in its envelope, garbage, or any status."""
    endpoint = READS[op_id]
    ok = endpoint.success_status
    kind = draw(st.sampled_from(["valid", "mutated", "envelope", "garbage", "truncated", "error", "status"]))
    status = ok
    if kind == "valid":
        body: bytes | Any = draw(_valid(op_id))
    elif kind == "mutated":
        body = draw(_mutated(draw(_valid(op_id))))
    elif kind == "envelope":
        body = draw(_error_envelope() | _broken_envelope(op_id))
    elif kind == "garbage":
        body = draw(_garbage_bodies)
    elif kind == "truncated":
        whole = json.dumps(draw(_mutated(draw(_valid(op_id))))).encode()
        body = whole[: draw(st.integers(0, max(0, len(whole) - 1)))]
    else:
        status = draw(st.integers(100, 599)) if kind == "status" else draw(st.sampled_from([400, 404, 429, 500]))
        body = draw(_error_envelope(status) | _garbage_bodies | _valid(op_id))
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers: CIMultiDict[str] = CIMultiDict()
    content_type = draw(_content_types)
    if content_type is not None:
        headers["Content-Type"] = content_type
    for name in draw(st.sets(st.sampled_from(["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                                              "X-RateLimit-Reset", "Location"]), max_size=3)):
        headers[name] = draw(_rate_header_values)
    return RawResponse(status, headers, raw)


# ---- checks ---------------------------------------------------------------------------------


def _texts(exc: BaseException) -> list[str]:
    """``str`` and ``repr`` of ``exc`` and of every exception it chains to."""
    out: list[str] = []
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        out += [str(item), repr(item)]
        stack += [item.__cause__, item.__context__]
    return out


def assert_safe(error: BaseException) -> None:
    """``error`` is typed and holds none of the planted values in its text (or its chain's)."""
    assert isinstance(error, PracSuiteError), repr(error)[:300]
    for text in _texts(error):
        for planted in PLANTED:
            assert planted not in text, f"{type(error).__name__} echoes a planted value"


# ---- calling an operation through the client -------------------------------------------------

_BY_ANNOTATION: dict[str, Any] = {"date": date(2026, 1, 6), "datetime": datetime(2026, 1, 6, 9), "int": 1}


def _required(method: Callable[..., Any]) -> tuple[list[Any], dict[str, Any]]:
    """Plain values for a method's required arguments: ids positional, the rest keyword."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in inspect.signature(method).parameters.values():
        if param.default is not inspect.Parameter.empty:
            continue
        value = next(v for k, v in _BY_ANNOTATION.items() if str(param.annotation).split(" ")[0] == k)
        if param.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[param.name] = value
        else:
            args.append(value)
    return args, kwargs


async def call(client: PracSuiteClient, endpoint: Endpoint[Any]) -> Any:
    """Call ``endpoint`` through its public method; a list is walked (at most three pages)."""
    method = getattr(getattr(client, endpoint.namespace), endpoint.method_name)
    args, kwargs = _required(method)
    if endpoint.paginated:
        return await method(*args, **kwargs, max_pages=3).collect()
    return await method(*args, **kwargs)


def test_every_read_is_callable_generically() -> None:
    """The generic caller finds values for every read's required arguments (so the fuzz covers them all)."""
    assert len(READS) > 30
    client = PracSuiteClient("v", "a", transport=FakeTransport(lambda _r: RawResponse(200, {}, b"")))
    for endpoint in READS.values():
        args, _ = _required(getattr(getattr(client, endpoint.namespace), endpoint.method_name))
        assert len(args) == len(endpoint.path_params)


# ---- the fuzz tests -------------------------------------------------------------------------


def test_decipher_never_raises_and_never_leaks(pytestconfig: pytest.Config) -> None:
    """The sans-I/O decoder turns any response to any read into a value or a typed, value-free error."""
    seen: collections.Counter[str] = collections.Counter()

    @_settings(pytestconfig, "decipher")
    @given(data=st.data(), op_id=st.sampled_from(sorted(READS)))
    def run(data: st.DataObject, op_id: str) -> None:
        endpoint = READS[op_id]
        resp = data.draw(responses(op_id))
        out = decipher_response(
            endpoint, resp.status, resp.headers, resp.body, method="GET", path="/x/1", wall_now=1.7e9
        )
        seen[type(out.error).__name__ if out.error else "value"] += 1
        if out.error is not None:
            assert out.value is None
            assert_safe(out.error)
        elif 200 <= resp.status < 300 and resp.status != 204:
            assert out.value is not None or endpoint.result is None

    run()
    if _full(pytestconfig, "decipher"):
        assert set(seen) >= EXPECTED_OUTCOMES, seen


def test_known_breakage_is_typed() -> None:
    """Anchors: each class of breakage gives the documented error (so the fuzz's oracle is not vacuous)."""
    from pracsuite_async import NotFoundError, ResponseDecodeError, ServerError

    ep = READS[_LIST_READS[0]]
    cases: list[tuple[int, bytes, type[PracSuiteError]]] = [
        (200, b"", ResponseDecodeError),
        (200, b"{" * 5000, ResponseDecodeError),
        (200, b"{}", ResponseDecodeError),
        (200, json.dumps({ep.list_key: {"a": MARKER}}).encode(), ResponseDecodeError),
        (200, json.dumps({"error": {"status": 404, "detail": MARKER}}).encode(), NotFoundError),
        (503, b"<html>" + MARKER.encode(), ServerError),
    ]
    for status, body, cls in cases:
        out = decipher_response(ep, status, {}, body, method="GET", path="/x", wall_now=0.0)
        assert isinstance(out.error, cls), (status, body[:20])
        assert_safe(out.error)


def test_client_turns_every_response_into_a_typed_error_or_a_result(pytestconfig: pytest.Config) -> None:
    """Through the public client (retries, list walks, fake clock), no response escapes as a foreign exception."""
    seen: collections.Counter[str] = collections.Counter()

    @_settings(pytestconfig, "client")
    @given(data=st.data(), op_id=st.sampled_from(sorted(READS)), seed=st.integers(0, 2**16))
    def run(data: st.DataObject, op_id: str, seed: int) -> None:
        first = data.draw(responses(op_id))
        later = data.draw(st.lists(responses(op_id), min_size=1, max_size=3))
        answers = iter([first, *later])
        last = later[-1]

        def handler(_req: Any) -> RawResponse:
            return next(answers, last)

        async def scenario() -> None:
            client = PracSuiteClient(
                "vendor-key", "account-key", transport=FakeTransport(handler), clock=FakeClock(),
                rate_limit=1000.0, rng=random.Random(seed), retry=RetryPolicy(max_attempts=3),
            )
            async with client:
                try:
                    await call(client, READS[op_id])
                except Exception as exc:  # the oracle: only typed errors may escape
                    seen[type(exc).__name__] += 1
                    assert_safe(exc)
                else:
                    seen["value"] += 1

        asyncio.run(scenario())

    run()
    if _full(pytestconfig, "client"):
        assert set(seen) >= {"value", "ResponseDecodeError", "APIStatusError", "BadRequestError"}, seen


def test_oversized_and_real_bytes_over_loopback(pytestconfig: pytest.Config) -> None:
    """Over a real socket (chunked or sized, with a small ``max_response_bytes``), outcomes are still typed."""
    seen: collections.Counter[str] = collections.Counter()

    @_settings(pytestconfig, "wire")
    @given(data=st.data(), op_id=st.sampled_from(_LIST_READS), size=st.sampled_from([0, 10, 3_000, 200_000]),
           chunked=st.booleans())
    def run(data: st.DataObject, op_id: str, size: int, chunked: bool) -> None:
        resp = data.draw(responses(op_id))
        body = resp.body + b" " * size  # trailing whitespace keeps JSON valid while growing the body

        async def serve(request: web.Request) -> web.StreamResponse:
            headers = {k: v for k, v in resp.headers.items() if k.lower() != "content-type"}
            out = web.StreamResponse(status=resp.status if resp.status >= 200 else 200, headers=headers)
            if "Content-Type" in resp.headers:
                out.headers["Content-Type"] = resp.headers["Content-Type"]
            if chunked:
                out.enable_chunked_encoding()
            else:
                out.content_length = len(body)
            await out.prepare(request)
            for start in range(0, len(body), 65_536):
                await out.write(body[start : start + 65_536])
            await out.write_eof()
            return out

        async def scenario() -> None:
            async with web_server(serve) as origin:
                client = PracSuiteClient(
                    "vendor-key", "account-key", base_url=f"{origin}/v1", rate_limit=1000.0,
                    retry=RetryPolicy(max_attempts=1), max_response_bytes=2_048,
                )
                async with client:
                    try:
                        await call(client, READS[op_id])
                    except Exception as exc:  # the oracle: only typed errors may escape
                        failure = exc
                    else:
                        failure = None
            seen[type(failure).__name__ if failure else "value"] += 1
            if failure is not None:
                assert_safe(failure)
            if len(body) > 2_048 and 200 <= resp.status < 300:
                assert isinstance(failure, ResponseTooLargeError), repr(failure)

        asyncio.run(scenario())

    run()
    if _full(pytestconfig, "wire"):
        assert "ResponseTooLargeError" in seen, seen
