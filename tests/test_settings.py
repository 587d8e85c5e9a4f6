"""Every public setting and per-call option is checked up front, naming the offender, before anything is sent."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest

from pracsuite_async import (
    ConfigurationError,
    PracSuiteClient,
    RequestTypeError,
    RequestValidationError,
)
from pracsuite_async.testing import FakeTransport, json_response
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY, MakeClient

BAD_SETTINGS: list[tuple[str, Any]] = [
    ("max_concurrency", 0),
    ("max_concurrency", True),
    ("max_concurrency", 2.5),
    ("max_concurrency", "4"),
    ("page_window", 0),
    ("page_window", None),
    ("timeout", 0),
    ("timeout", -1.0),
    ("timeout", math.nan),
    ("timeout", math.inf),
    ("timeout", True),
    ("timeout", "5"),
    ("deadline", 0),
    ("deadline", math.nan),
    ("deadline", math.inf),
    ("deadline", True),
    ("deadline", "5"),
    ("event_hooks", [None]),
    ("event_hooks", "print"),
    ("event_hooks", 5),
    ("event_hooks", print),
    ("retry", "3"),
    ("transport", object()),
    ("clock", object()),
    ("rng", 7),
    ("allow_insecure", "yes"),
    ("base_url", 5),
    ("base_url", "ftp://api.example.com/v1"),
    ("session", object()),
    ("max_response_bytes", 0),
    ("max_response_bytes", True),
    ("max_response_bytes", 1e6),
    ("max_download_bytes", -1),
]


def _setting_id(name: str, value: Any) -> str:
    # A bare object()'s repr holds its address: ids must match across xdist workers' collections.
    return f"{name}={value!r}" if type(value) is not object else f"{name}=object()"


class TestConstructor:
    @pytest.mark.parametrize(("name", "value"), BAD_SETTINGS, ids=[_setting_id(n, v) for n, v in BAD_SETTINGS])
    def test_bad_setting_is_a_configuration_error_naming_it(self, name: str, value: Any) -> None:
        """A wrong type or range raises ConfigurationError whose message names the setting."""
        with pytest.raises(ConfigurationError, match=name):
            PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, **{name: value})

    @pytest.mark.parametrize("key", [5, b"bytes-key", "line\nbreak", "tab\tkey"])
    def test_bad_key_is_named_without_its_value(self, key: Any) -> None:
        """A key that is not a printable string is refused, and the message does not show it."""
        with pytest.raises(ConfigurationError, match="vendor key") as info:
            PracSuiteClient(key, ACCOUNT_KEY)
        assert str(key) not in str(info.value)

    def test_good_settings_are_accepted(self) -> None:
        """Valid values of every checked setting build a client."""
        client = PracSuiteClient(
            VENDOR_KEY, ACCOUNT_KEY, max_concurrency=4, page_window=2, timeout=None, deadline=2.5,
            event_hooks=[print], allow_insecure=True, base_url="http://api.example.com/v1",
            max_response_bytes=1024, max_download_bytes=2048,
        )
        assert client.page_window == 2


BAD_DEADLINES: list[tuple[Any, type[Exception]]] = [
    (True, RequestTypeError),
    ("5", RequestTypeError),
    ([5], RequestTypeError),
    (0, RequestValidationError),
    (-1, RequestValidationError),
    (math.nan, RequestValidationError),
    (math.inf, RequestValidationError),
]


class TestPerCall:
    @pytest.mark.parametrize(("value", "error"), BAD_DEADLINES, ids=[repr(v) for v, _ in BAD_DEADLINES])
    async def test_bad_deadline_fails_before_sending(
        self, make_client: MakeClient, value: Any, error: type[Exception]
    ) -> None:
        """deadline=True is not one second and '5' is not five: each is refused before any request."""
        client, transport = make_client(lambda r: json_response(200, {}))
        with pytest.raises(error) as info:
            await client.appointments.get(1, deadline=value)
        assert isinstance(info.value, RequestValidationError)
        assert info.value.field == "deadline"
        with pytest.raises(error):
            client.appointments.list(deadline=value)
        assert transport.requests == []

    async def test_bad_idempotent_fails_before_sending(self, make_client: MakeClient) -> None:
        """A non-bool idempotent= override is refused before any request."""
        from pracsuite_async._endpoints import GET_APPOINTMENT
        from pracsuite_async._wire import build_request

        with pytest.raises(RequestTypeError, match="idempotent"):
            build_request(GET_APPOINTMENT, {"appointment_id": 1, "idempotent": "yes"})

    async def test_good_deadline_is_used(self, make_client: MakeClient) -> None:
        """A positive number (int or float) is accepted and the call goes out once."""
        client, transport = make_client(lambda r: json_response(200, {"appointment_id": 1}))
        await client.appointments.get(1, deadline=5)
        await client.appointments.get(1, deadline=0.5)
        assert len(transport.requests) == 2

    async def test_helper_deadline_is_checked_before_sending(self, make_client: MakeClient) -> None:
        """The multi-request helpers reject a bad deadline before their first request."""
        client, transport = make_client(lambda r: json_response(200, {}))
        with pytest.raises(RequestTypeError, match="deadline"):
            await client.patient_attachments.download_content(1, deadline="5")  # type: ignore[arg-type]
        with pytest.raises(RequestTypeError, match="deadline"):
            await client.available_appointments.search(
                from_=date(2026, 1, 5), to=date(2026, 1, 6), appointment_type_id=1, deadline=True
            )
        assert transport.requests == []


def test_fake_transport_is_a_transport() -> None:
    """The shipped FakeTransport passes the constructor's transport check."""
    transport = FakeTransport(lambda r: json_response(200, {}))
    client = PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, transport=transport)
    assert client._transport is transport
