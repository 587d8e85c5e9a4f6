"""Error statuses map to typed errors with the envelope's fields, whatever the body."""

from __future__ import annotations

import pickle

import pytest

from pracsuite_async import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectionLostError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestValidationError,
    ResponseDecodeError,
    ServerError,
    UnprocessableEntityError,
)
from pracsuite_async._rate_headers import parse_retry_after
from pracsuite_async._response import error_from_response

CASES = [
    (400, BadRequestError, "INVALID_PARAMS"),
    (401, AuthenticationError, "UNAUTHORIZED"),
    (403, PermissionDeniedError, "MISSING_AUTHENTICATION_TOKEN"),
    (404, NotFoundError, "NOT_FOUND"),
    (409, ConflictError, "RESERVE_APPOINTMENT_CONFLICT"),
    (422, UnprocessableEntityError, "INVALID_BODY"),
    (429, RateLimitError, None),
    (500, ServerError, "SERVER_ERROR"),
    (502, ServerError, None),
    (503, ServerError, None),
    (504, ServerError, None),
]


def _envelope(status: int, code: str | None) -> bytes:
    import json

    error: dict[str, object] = {"status": status, "code": code, "detail": "Something happened"}
    if status == 422:
        error["validation"] = [{"field": "surname", "message": "The surname field is required."}]
    return json.dumps({"error": error, "request_id": "8b1c-req"}).encode()


class TestMapping:
    @pytest.mark.parametrize(("status", "cls", "code"), CASES)
    def test_envelope_fields_are_exposed(self, status: int, cls: type[APIStatusError], code: str | None) -> None:
        """Each status gives its class with status, code, detail, request_id, method and path."""
        err = error_from_response(
            status, {"Retry-After": "7"}, _envelope(status, code), method="GET", path="/patient/1", wall_now=0
        )
        assert type(err) is cls
        assert isinstance(err, APIStatusError)
        assert (err.status, err.code, err.detail, err.request_id) == (status, code, "Something happened", "8b1c-req")
        assert (err.method, err.path) == ("GET", "/patient/1")
        if status == 422:
            assert err.validation[0].field == "surname"
        if status == 429:
            assert isinstance(err, RateLimitError)
            assert err.retry_after == 7.0

    @pytest.mark.parametrize(
        "body", [b"<html><body>502 Bad Gateway</body></html>", b'{"error": {"code": "SERV', b"", b"[]", b'{"error": 3}']
    )
    @pytest.mark.parametrize(("status", "cls"), [(502, ServerError), (404, NotFoundError), (422, UnprocessableEntityError)])
    def test_non_envelope_bodies_still_give_typed_errors(
        self, body: bytes, status: int, cls: type[APIStatusError]
    ) -> None:
        """HTML from a proxy or truncated JSON still gives the status's class, fields None."""
        err = error_from_response(status, {}, body, method="GET", path="/x", wall_now=0)
        assert type(err) is cls
        assert err.code is None
        assert err.request_id is None
        assert str(status) in str(err)

    def test_unknown_4xx_is_the_base_class(self) -> None:
        """A status without its own class is an APIStatusError."""
        err = error_from_response(418, {}, b"", method="GET", path="/x", wall_now=0)
        assert type(err) is APIStatusError

    @pytest.mark.parametrize(("status", "code"), [(s, c) for s, _, c in CASES])
    def test_errors_pickle_round_trip(self, status: int, code: str | None) -> None:
        """Errors survive pickling with every field except the server's free text."""
        err = error_from_response(status, {}, _envelope(status, code), method="POST", path="/p", wall_now=0)
        data = pickle.dumps(err)
        again = pickle.loads(data)
        assert type(again) is type(err)
        assert b"Something happened" not in data
        assert b"surname field is required" not in data
        assert again.detail is None
        assert [p.field for p in again.validation] == [p.field for p in err.validation]
        kept = {k: v for k, v in err.__dict__.items() if k not in {"detail", "validation"}}
        assert {k: v for k, v in again.__dict__.items() if k in kept} == kept

    @pytest.mark.parametrize(("status", "code"), [(s, c) for s, _, c in CASES])
    def test_str_and_repr_carry_no_server_text(self, status: int, code: str | None) -> None:
        """str() and repr() show status, code, field names and request_id, never detail or messages."""
        err = error_from_response(status, {}, _envelope(status, code), method="POST", path="/p", wall_now=0)
        for text in (str(err), repr(err)):
            assert "Something happened" not in text
            assert "surname field is required" not in text
        text = str(err)
        assert str(status) in text
        assert "8b1c-req" in text
        if code:
            assert code in text
        if status == 422:
            assert "surname" in text

    def test_other_errors_pickle(self) -> None:
        """Transport, validation and decode errors pickle too."""
        for err in (
            ConnectionLostError("reset", method="GET", path="/x", request_sent=True),
            RequestValidationError("page_size", "must be between 1 and 100"),
            ResponseDecodeError("bad", method="GET", path="/x", problems=("expected int @ $.a",)),
        ):
            again = pickle.loads(pickle.dumps(err))
            assert type(again) is type(err)
            assert str(again) == str(err)


class TestRetryAfter:
    def test_seconds(self) -> None:
        """Delta-seconds are read as seconds."""
        assert parse_retry_after("12", 0) == 12.0

    def test_http_date(self) -> None:
        """An HTTP-date is converted to seconds from now."""
        assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40.0) == 60.0

    @pytest.mark.parametrize("value", [None, "", "soon", "Thu, 99 Foo"])
    def test_garbage_is_ignored(self, value: str | None) -> None:
        """Unparseable values mean no Retry-After."""
        assert parse_retry_after(value, 0) is None
