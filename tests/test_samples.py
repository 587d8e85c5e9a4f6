"""Recorded responses, one folder each under ``tests/samples/``, through the one response path.

Each ``tests/samples/<case>/`` holds ``body`` (the bytes as received), ``response.json``
(``operation``, ``status``, ``headers``) and ``expected.json``: either ``error`` (the
exception class name, with ``status``/``code``/``request_id``/``problems``/... to
compare), ``value`` (a subset of :func:`to_dict` of the result, or the result itself)
or ``items``/``total_entries``/``has_next`` for a page; ``feedback`` compares the rate
feedback. Adding a case is adding a folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pracsuite_async
from pracsuite_async import ResponseDecodeError, RetryPolicy, _fastpage, to_dict
from pracsuite_async._endpoints import OPERATIONS
from pracsuite_async._response import Deciphered, ListBody, decipher_response
from pracsuite_async.models import Model

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture(autouse=True, params=["msgspec pages", "general path"])
def page_decoder(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every case through both page decoders: with msgspec (when installed) and without."""
    if request.param == "msgspec pages" and _fastpage.msgspec is None:
        pytest.skip("msgspec is not installed")
    _fastpage.set_enabled(request.param == "msgspec pages")
    yield
    _fastpage.set_enabled(True)
CASES = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())


def _load(case: str) -> tuple[dict[str, Any], bytes, dict[str, Any]]:
    folder = SAMPLES / case
    meta = json.loads((folder / "response.json").read_text(encoding="utf-8"))
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    return meta, (folder / "body").read_bytes(), expected


def _decipher(case: str) -> tuple[Deciphered, dict[str, Any], bytes]:
    meta, body, expected = _load(case)
    endpoint = OPERATIONS[meta["operation"]]
    out = decipher_response(
        endpoint, meta["status"], meta["headers"], body, method=endpoint.method, path=endpoint.path, wall_now=0.0
    )
    return out, expected, body


def _subset(expected: Any, actual: Any, where: str = "$") -> None:
    """Every key of ``expected`` is in ``actual`` with an equal value (recursively)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing"
            _subset(value, actual[key], f"{where}.{key}")
    else:
        assert actual == expected, where


def _as_json(value: Any) -> Any:
    return to_dict(value) if isinstance(value, Model) else value


def test_there_are_samples() -> None:
    """The table is not empty, so the parametrized test below cannot pass vacuously."""
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES)
def test_sample(case: str) -> None:
    """The recorded response becomes exactly the expected data or typed error."""
    out, expected, _ = _decipher(case)
    if "error" in expected:
        assert out.value is None
        assert type(out.error).__name__ == expected["error"], out.error
        assert isinstance(out.error, getattr(pracsuite_async, expected["error"]))
        for name in ("status", "code", "request_id", "retry_after", "problems"):
            if name in expected:
                got = getattr(out.error, name)
                want = expected[name]
                assert (sorted(got) if name == "problems" else got) == want, name
        if "message" in expected:
            assert out.error.message == expected["message"]  # type: ignore[union-attr]
        if "validation" in expected:
            assert [p.field for p in out.error.validation] == expected["validation"]  # type: ignore[union-attr]
    else:
        assert out.error is None, out.error
        if "value" in expected:
            if isinstance(expected["value"], dict):
                _subset(expected["value"], _as_json(out.value))
            else:
                assert out.value == expected["value"]
        if "items" in expected:
            assert isinstance(out.value, ListBody)
            assert len(out.value.items) == len(expected["items"])
            for want, got in zip(expected["items"], out.value.items, strict=True):
                _subset(want, to_dict(got))
            assert out.value.total_entries == expected["total_entries"]
            assert out.value.has_next is expected["has_next"]
    if "feedback" in expected:
        assert out.feedback is not None
        for name, value in expected["feedback"].items():
            assert getattr(out.feedback, name) == value, name


def test_founding_document_example_keeps_wall_clock_time() -> None:
    """The founding document's appointment decodes, app_time naive at the wall-clock time it shows."""
    out, _, _ = _decipher("founding_document_appointment")
    appointment = out.value
    assert isinstance(appointment, pracsuite_async.models.Appointment)
    assert appointment.app_time is not None
    assert appointment.app_time.tzinfo is None
    assert appointment.app_time.isoformat() == "2019-08-24T14:15:22"


@pytest.mark.parametrize(
    ("case", "retryable"),
    [("truncated_json_200", True), ("empty_body_200", True), ("id_string", False), ("list_empty_object", False)],
)
def test_decode_errors_retry_only_when_transient(case: str, retryable: bool) -> None:
    """A body that is not JSON may be retried on a GET; data that does not fit the model never is."""
    out, _, _ = _decipher(case)
    assert isinstance(out.error, ResponseDecodeError)
    assert RetryPolicy().is_retryable(out.error, idempotent=True) is retryable


def test_problems_never_quote_values() -> None:
    """Wrong scalar types are reported by path and rule; the values themselves never appear."""
    out, _, _ = _decipher("wrong_scalar_types")
    text = str(out.error) + repr(out.error) + repr(getattr(out.error, "problems", ()))
    for value in ("not-an-int", "1.5", "True", "[1]", "1.1805916207174113e+21"):
        assert value not in text
