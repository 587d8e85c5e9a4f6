"""msgspec pages (``_fastpage``) return exactly what the general path returns, or step aside.

The fast path may only ever answer what orjson + the converter would answer; every
error, and every page it cannot vouch for, is the general path's to decide. These
tests hold it to that over generated pages of every list operation (valid records,
unknown keys, and values of the wrong type), and check what it learns and when it
switches itself off.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any, get_args, get_origin

import attrs
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pracsuite_async import PracSuiteClient, ResponseDecodeError, _fastpage, _response
from pracsuite_async._converter import StructureError, structure_list
from pracsuite_async._endpoints import OPERATIONS
from pracsuite_async._json import loads
from pracsuite_async._response import ListBody, decipher_response
from pracsuite_async.models import Appointment
from tests.hostile import web_server
from tests.strategies import example, objects, response_item_schema
from tests.test_converter_extras import FULL

pytestmark = pytest.mark.skipif(_fastpage.msgspec is None, reason="msgspec is not installed")

LIST_OPS = sorted(op.operation_id for op in OPERATIONS.values() if op.list_key and op.result is not None)


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    """Every test starts with nothing learnt and nothing switched off."""
    _fastpage.set_enabled(True)
    yield
    _fastpage.set_enabled(True)


def _model(result: Any) -> Any:
    return get_args(result)[0] if get_origin(result) is list else result


def canon(value: Any) -> Any:
    """``value`` with every type spelt out: ``1 == 1.0 == True`` must not hide a difference."""
    if attrs.has(type(value)):
        fields = tuple((a.name, canon(getattr(value, a.name))) for a in attrs.fields(type(value)))
        return (type(value).__name__, fields)
    if isinstance(value, list):
        return ("list", tuple(canon(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, canon(v)) for k, v in value.items())))
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), repr(value.tzinfo))
    if isinstance(value, date):
        return ("date", value.isoformat())
    return (type(value).__name__, value)


def general(body: bytes, list_key: str, result: Any) -> list[Any] | StructureError:
    """What the general path makes of a page: orjson, then the converter."""
    try:
        return structure_list(loads(body)[list_key], _model(result))
    except StructureError as exc:
        return exc


def page(list_key: str, records: list[Any], **more: Any) -> bytes:
    return json.dumps({list_key: records, "total_entries": len(records), **more}).encode()


# Values of the wrong type somewhere: the fast path must step aside, never differ.
_wrong = st.sampled_from([True, False, 1.5, 2**70, "7", "not-a-date", [1], {"a": 1}, None, -1, "2024-02-03t04:05:06z"])


@pytest.mark.parametrize("op_id", LIST_OPS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_page_is_the_general_page_or_nothing(op_id: str, data: st.DataObject) -> None:
    """Every list operation, generated records: the fast result equals the general one, types included."""
    endpoint = OPERATIONS[op_id]
    assert endpoint.list_key is not None
    schema = response_item_schema(op_id)
    assert schema is not None
    records = data.draw(st.lists(objects(schema), min_size=1, max_size=4), label="records")
    if data.draw(st.booleans(), label="break a value"):
        record = data.draw(st.sampled_from(records))
        if record:
            key = data.draw(st.sampled_from(sorted(record)))
            record[key] = data.draw(_wrong)
    body = page(endpoint.list_key, records)
    expected = general(body, endpoint.list_key, endpoint.result)
    fast = _fastpage.decode_page(body, endpoint.list_key, endpoint.result)
    if fast is None:
        return
    assert not isinstance(expected, StructureError), "the fast path accepted what the general path refuses"
    assert canon(fast[0]) == canon(expected)
    assert fast[1] == len(records)


def test_the_fast_path_is_taken_for_valid_pages_of_every_list_operation() -> None:
    """The property above passes vacuously if the fast path always steps aside: it must not."""
    for op_id in LIST_OPS:
        endpoint = OPERATIONS[op_id]
        assert endpoint.list_key is not None
        schema = response_item_schema(op_id)
        assert schema is not None
        record = example(schema)
        body = page(endpoint.list_key, [record])
        fast = _fastpage.decode_page(body, endpoint.list_key, endpoint.result)
        assert fast is not None, op_id
        expected = general(body, endpoint.list_key, endpoint.result)
        assert canon(fast[0]) == canon(expected), op_id


def _appointments(*records: dict[str, Any]) -> bytes:
    return page("appointments", list(records), links={"self": "x"})


def test_unknown_keys_are_learnt_once_then_pages_stay_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new key costs one re-parse of that page; later pages are decoded by msgspec alone."""
    first = {**FULL, "custom_fields": {"source": "import", "tags": [1, 2]}}
    fast = _fastpage.decode_page(_appointments(first, FULL), "appointments", Appointment)
    assert fast is not None
    assert [m.extra for m in fast[0]] == [{"custom_fields": {"source": "import", "tags": [1, 2]}}, {}]

    def no_learning(*args: Any) -> bool:
        msg = "the page was refused and parsed again"
        raise AssertionError(msg)

    monkeypatch.setattr(_fastpage, "_learn", no_learning)
    nested = {**FULL, "custom_fields": None, "appointment_id": 2}
    fast = _fastpage.decode_page(_appointments(nested), "appointments", Appointment)
    assert fast is not None
    assert fast[0][0].extra == {"custom_fields": None}  # present and null is kept, as the general path does
    assert fast[0][0].appointment_id == 2


def test_unknown_keys_of_nested_models_are_kept() -> None:
    record = {**FULL, "links": {**FULL["links"], "history": "https://x/h"}}
    fast = _fastpage.decode_page(_appointments(record), "appointments", Appointment)
    assert fast is not None
    assert fast[0][0].links is not None
    assert fast[0][0].links.extra == {"history": "https://x/h"}
    assert canon(fast[0]) == canon(general(_appointments(record), "appointments", Appointment))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("appointment_id", "1"),
        ("appointment_id", True),
        ("appointment_id", None),
        ("duration", 30.0),
        ("created", "2024-02-03t04:05:06z"),  # the converter's fallback reads a lower-case z
        ("tenant_id", 2**64),  # orjson reads it as a float
        ("resource_ids", [1, "2"]),
    ],
)
def test_a_page_the_fast_path_refuses_goes_the_general_way(key: str, value: Any) -> None:
    body = _appointments(FULL, {**FULL, key: value})
    assert _fastpage.decode_page(body, "appointments", Appointment) is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("created", "2024-02-03T04:05:06"),  # a naive timestamp is read as UTC
        ("created", "2024-02-03T04:05:06.1234567+02:00"),  # 7 digits: truncated, as fromisoformat does
        ("app_time", "2024-02-03T04:05:06Z"),  # tenant-local: the wall-clock part is kept
        ("app_time", "2024-02-03T04:05"),
        ("notes", "\u0000 \ud83d\ude00"),
        ("duration", -(2**63)),
    ],
)
def test_lenient_readings_agree(key: str, value: Any) -> None:
    body = _appointments(FULL, {**FULL, key: value})
    fast = _fastpage.decode_page(body, "appointments", Appointment)
    assert fast is not None
    assert canon(fast[0]) == canon(general(body, "appointments", Appointment))


def test_a_decoder_that_keeps_failing_is_switched_off() -> None:
    bad = _appointments({**FULL, "appointment_id": "1"})
    good = _appointments(FULL)
    for _ in range(_fastpage.MAX_FAILURES - 1):
        assert _fastpage.decode_page(bad, "appointments", Appointment) is None
    assert _fastpage.decode_page(good, "appointments", Appointment) is not None  # a success resets the count
    for _ in range(_fastpage.MAX_FAILURES):
        assert _fastpage.decode_page(bad, "appointments", Appointment) is None
    assert _fastpage.decode_page(good, "appointments", Appointment) is None  # off for good
    _fastpage.set_enabled(True)
    assert _fastpage.decode_page(good, "appointments", Appointment) is not None


def test_learning_is_bounded() -> None:
    """A server inventing keys on every page ends on the general path, which still keeps them all."""
    endpoint = OPERATIONS["listAppointments"]
    results = []
    for n in range(_fastpage.MAX_UNKNOWN + 10):
        body = _appointments({**FULL, f"key_{n}": n})
        out = decipher_response(endpoint, 200, {}, body, method="GET", path="/appointment", wall_now=0.0)
        assert out.error is None
        assert isinstance(out.value, ListBody)
        results.append(out.value.items[0].extra)
        assert len(_fastpage._unknown.get(Appointment, ())) <= _fastpage.MAX_UNKNOWN
    assert results == [{f"key_{n}": n} for n in range(_fastpage.MAX_UNKNOWN + 10)]
    assert _fastpage.decode_page(_appointments(FULL), "appointments", Appointment) is None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"appointments": [], "error": null}',  # an error member, even null: the general path looks
        b'{"appointments": {}}',
        b'{"total_entries": 1}',
        b"[1, 2]",
    ],
)
def test_odd_envelopes_go_the_general_way(body: bytes) -> None:
    assert _fastpage.decode_page(body, "appointments", Appointment) is None


def test_switched_off_it_steps_aside() -> None:
    _fastpage.set_enabled(False)
    assert not _fastpage.enabled()
    assert _fastpage.decode_page(_appointments(FULL), "appointments", Appointment) is None


def test_threads_learning_at_once_get_the_general_answer() -> None:
    """Clients in several threads: learning rebuilds shared tables; no decode sees half of it."""
    bodies = [_appointments({**FULL, f"key_{n % 6}": n}, {**FULL, "links": {"self": "s", f"l{n % 3}": 1}}) for n in range(48)]
    expected = [canon(general(body, "appointments", Appointment)) for body in bodies]

    def decode(body: bytes) -> Any:
        fast = _fastpage.decode_page(body, "appointments", Appointment)
        return None if fast is None else canon(fast[0])

    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(decode, bodies * 4))
    assert all(g is None or g == e for g, e in zip(got, expected * 4, strict=True))
    assert sum(g is not None for g in got) > len(got) // 2  # the fast path did most of them


# -- through real sockets: a server whose pages keep changing shape -------------------------------

_PAGES = 8


def _shifty_page(number: int, *, huge_ints: bool = True) -> bytes:
    """Page ``number`` of a server that changes shape as it goes: what each page adds is noted inline."""
    rows = []
    for i in range(10):
        n = (number - 1) * 10 + i + 1
        record = {**FULL, "appointment_id": n, f"added_on_page_{number}": {"n": n, "tags": [n]}}
        record["links"] = {"self": f"/appointment/{n}", f"nested_{number % 3}": n}
        if number == 3:
            record["created"] = "2024-02-03t04:05:06z"  # lower-case: only the converter's fallback reads it
        if number == 4 and huge_ints:
            record["tenant_id"] = 2**64 + n  # orjson reads it as a float: refused by both paths
        if number == 5:
            record["duration"] = -(2**63)  # the smallest int64: read as an int by both
        if number == 6:
            del record["notes"], record["item_id"]  # optional fields absent
        rows.append(record)
    text = json.dumps({"appointments": rows, "total_entries": _PAGES * 10})
    if number == 7:  # a key twice in one record: the later value wins in both decoders
        text = text.replace('"notes": ""', '"notes": "first", "notes": "second"', 1)
    links = f', "links": {{"next": "/appointment?page={number + 1}"}}' if number < _PAGES else ""
    return (text[:-1] + links + "}").encode()


async def _walk_shifty(url: str) -> list[Any] | str:
    client = PracSuiteClient("vendor", "account", base_url=url + "/v1", rate_limit=10_000.0, page_window=3)
    async with client:
        try:
            return [canon(a) async for a in client.appointments.list(page_size=10)]
        except ResponseDecodeError as exc:
            return f"{type(exc).__name__}: {exc.problems}"


async def test_a_shifty_server_gets_the_same_answers_with_and_without_msgspec() -> None:
    """Every page of a hostile loopback server, walked with msgspec pages and without: equal results."""

    async def handler(request: web.Request) -> web.Response:
        body = _shifty_page(int(request.query["page"]))
        return web.Response(body=body, content_type="application/json")

    async with web_server(handler) as url:
        fast = await _walk_shifty(url)
        _fastpage.set_enabled(False)
        general_path = await _walk_shifty(url)
    assert fast == general_path
    # Page 4's integer beyond 64 bits is refused at its turn, with its path and never its value.
    assert isinstance(fast, str)
    assert "tenant_id" in fast
    assert str(2**64) not in fast


async def test_a_shifty_server_without_the_bad_page_decodes_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same server minus page 4: every record once, unknown fields kept at both levels."""
    answered: list[bool] = []

    def counting(body: bytes, list_key: str, result: Any) -> Any:
        out = _fastpage.decode_page(body, list_key, result)
        answered.append(out is not None)
        return out

    monkeypatch.setattr(_response, "decode_page", counting)

    async def handler(request: web.Request) -> web.Response:
        body = _shifty_page(int(request.query["page"]), huge_ints=False)
        return web.Response(body=body, content_type="application/json")

    async with web_server(handler) as url:
        fast = await _walk_shifty(url)
        _fastpage.set_enabled(False)
        general_path = await _walk_shifty(url)
    assert isinstance(fast, list)
    assert fast == general_path
    assert len(fast) == _PAGES * 10
    # msgspec decoded every page but page 3 (its lower-case "z" is the converter's to read).
    assert answered[:_PAGES] == [n != 3 for n in range(1, _PAGES + 1)]
