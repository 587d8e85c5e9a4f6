"""Keys never appear in reprs, errors, pickles, logs or events."""

from __future__ import annotations

import logging
import pickle

import pytest

from pracsuite_async import OPERATIONS, LoggingHook, PracSuiteClient, RawFilter, ServerError
from pracsuite_async._redact import Secret
from pracsuite_async._response import UnreadPage, decipher_response
from pracsuite_async._transport import RawResponse
from pracsuite_async._wire import build_request
from pracsuite_async.testing import RecordedRequest, json_response
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY, MakeClient, prepared

SECRETS = (VENDOR_KEY, ACCOUNT_KEY)


def _clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


class TestRedaction:
    def test_client_repr_hides_keys(self, make_client: MakeClient) -> None:
        """repr(client) and its parts never show a key."""
        client, _ = make_client(lambda r: json_response(200, {}))
        _clean(repr(client))
        _clean(repr(client.__dict__))
        _clean(repr(client._pipeline.__dict__))

    def test_client_refuses_pickling(self, make_client: MakeClient) -> None:
        """A client (holding keys) cannot be pickled."""
        client, _ = make_client(lambda r: json_response(200, {}))
        with pytest.raises(TypeError):
            pickle.dumps(client)

    def test_secret_never_shows(self) -> None:
        """Secret's repr/str hide the value and it refuses pickling."""
        secret = Secret(VENDOR_KEY)
        _clean(repr(secret) + str(secret) + f"{secret}")
        with pytest.raises(TypeError):
            pickle.dumps(secret)

    async def test_errors_logs_and_events_hide_keys(
        self, make_client: MakeClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Errors (str, repr, pickle), DEBUG logs and events carry no key even when the server echoes nothing."""
        events: list[object] = []

        def handler(req: RecordedRequest) -> RawResponse:
            assert req.headers["x-api-key"] == VENDOR_KEY  # the keys do go on the wire
            return json_response(503, {"error": {"code": "SERVER_ERROR"}})

        client, _ = make_client(handler, event_hooks=[events.append, LoggingHook()])
        with caplog.at_level(logging.DEBUG, logger="pracsuite_async"), pytest.raises(ServerError) as info:
            await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        err = info.value
        _clean(str(err) + repr(err) + repr(err.__dict__))
        _clean(repr(pickle.dumps(err)))
        _clean(caplog.text)
        assert caplog.records, "the logging hook logged something"
        _clean(repr(events))

    def test_missing_keys_are_a_clear_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Missing keys fail at construction, naming the environment variable."""
        from pracsuite_async import ConfigurationError

        monkeypatch.delenv("PRACSUITE_VENDOR_KEY", raising=False)
        monkeypatch.delenv("PRACSUITE_ACCOUNT_KEY", raising=False)
        with pytest.raises(ConfigurationError, match="PRACSUITE_VENDOR_KEY"):
            PracSuiteClient()
        with pytest.raises(ConfigurationError, match="PRACSUITE_ACCOUNT_KEY"):
            PracSuiteClient(VENDOR_KEY)
        with pytest.raises(ConfigurationError):
            PracSuiteClient("", ACCOUNT_KEY)

    def test_keys_fall_back_to_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Keys are read from PRACSUITE_VENDOR_KEY / PRACSUITE_ACCOUNT_KEY."""
        monkeypatch.setenv("PRACSUITE_VENDOR_KEY", VENDOR_KEY)
        monkeypatch.setenv("PRACSUITE_ACCOUNT_KEY", ACCOUNT_KEY)
        client = PracSuiteClient()
        assert client._pipeline._headers.reveal()["A-api-key"] == ACCOUNT_KEY


class TestNoPatientDataInPipelineReprs:
    """Objects that sit in pipeline and pager frames (which error trackers record) show no record data."""

    def test_prepared_request_repr_hides_query_and_body(self) -> None:
        """A write's JSON body and a list's filter values stay out of ``repr(PreparedRequest)``."""
        write = build_request(
            OPERATIONS["createPatient"], {"first_name": "Zelda", "surname": "Quixote"}
        )
        listing = build_request(OPERATIONS["listPatients"], {"filters": [RawFilter("surname:=Quixote")]}, page=1)
        assert b"Quixote" in (write.body or b"")
        assert any("Quixote" in str(value) for _, value in listing.params)
        for req in (write, listing):
            assert "Quixote" not in repr(req)
            assert req.path in repr(req)

    def test_unread_page_repr_hides_the_records(self) -> None:
        """A page fetched ahead of its turn (held as bytes) shows its status and path, not its body."""
        body = b'{"clients": [{"client_id": 1, "surname": "Quixote"}], "total_entries": 1, "links": {}}'
        out = decipher_response(
            OPERATIONS["listPatients"], 200, {"Content-Type": "application/json"}, body,
            method="GET", path="/patient", wall_now=0.0, defer_page=True,
        )
        assert isinstance(out.value, UnreadPage)
        assert "Quixote" not in repr(out.value)
        assert "/patient" in repr(out.value)
        assert out.value.read().items[0].surname == "Quixote"
