"""Client-level behaviour through the resource namespaces, over a FakeTransport."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from pracsuite_async import (
    F,
    NotFoundError,
    PracSuiteClient,
    RequestTypeError,
    RequestValidationError,
    ResponseDecodeError,
)
from pracsuite_async.models import Appointment
from pracsuite_async.testing import RecordedRequest, json_response
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY, MakeClient


def _page(req: RecordedRequest, total: int = 3):
    page = int(req.query("page")[0])
    size = int(req.query("page_size")[0])
    first = (page - 1) * size
    ids = range(first + 1, min(first + size, total) + 1)
    return json_response(
        200,
        {
            "appointments": [{"appointment_id": i, "app_time": "2025-01-03T10:15:00"} for i in ids],
            "total_entries": total,
            "links": {"self": "x"},
        },
    )


class TestRequests:
    async def test_list_sends_page_and_filters_and_no_sort(self, make_client: MakeClient) -> None:
        """A list call sends page, page_size and encoded q[] filters, and no sort_by unless asked."""
        client, transport = make_client(_page)
        items = await client.appointments.list(
            filters=[F("business_id") == 5, F("app_time") >= datetime(2025, 1, 1, 9)], page_size=2
        ).collect()
        assert [a.appointment_id for a in items] == [1, 2, 3]
        assert all(isinstance(a, Appointment) for a in items)
        first = transport.requests[0]
        assert first.path == "/appointment"
        assert first.query("q[]") == ["business_id:=5", "app_time:>=2025-01-01T09:00:00"]
        assert first.query("sort_by") == []
        assert sorted(int(r.query("page")[0]) for r in transport.requests) == [1, 2]

    async def test_list_sends_sort_as_json_array_with_tie_breaker(self, make_client: MakeClient) -> None:
        """An asked-for sort goes out as one JSON array with the id appended as a tie-breaker."""
        client, transport = make_client(_page)
        await client.appointments.list(sort_by=["updated"], page_size=2).collect()
        assert {tuple(r.query("sort_by")) for r in transport.requests} == {('["updated","appointment_id"]',)}

    async def test_write_sends_json_body_of_given_fields_only(self, make_client: MakeClient) -> None:
        """A write sends only the fields given (UNSET omitted), as JSON, to the right path."""
        client, transport = make_client(lambda r: json_response(204))
        assert await client.appointments.cancel(42, record_as_cancelled=True) is None
        (req,) = transport.requests
        assert (req.method, req.path) == ("POST", "/appointment/42/cancel")
        assert req.json() == {"record_as_cancelled": True}
        assert req.headers["Content-Type"] == "application/json"

    async def test_get_decodes_the_model(self, make_client: MakeClient) -> None:
        """get() returns the typed model, naive app_time and aware timestamps."""
        body = {"appointment_id": 7, "app_time": "2025-01-03T10:15:00", "created": "2020-09-12T11:09:42.687393Z"}
        client, _ = make_client(lambda r: json_response(200, body))
        appt = await client.appointments.get(7)
        assert appt.appointment_id == 7
        assert appt.app_time == datetime(2025, 1, 3, 10, 15)
        assert appt.created is not None
        assert appt.created.tzinfo is not None
        assert appt.created.microsecond == 687393

    async def test_model_mismatch_is_a_decode_error(self, make_client: MakeClient) -> None:
        """A 200 whose body does not fit the model raises ResponseDecodeError with a path, no value."""
        client, _ = make_client(lambda r: json_response(200, {"appointment_id": 7, "app_time": "not-a-time"}))
        with pytest.raises(ResponseDecodeError) as info:
            await client.appointments.get(7)
        assert info.value.problems
        assert "not-a-time" not in str(info.value)

    async def test_not_found_is_typed(self, make_client: MakeClient) -> None:
        """A 404 envelope becomes NotFoundError with the request id."""
        client, _ = make_client(
            lambda r: json_response(404, {"error": {"status": 404, "code": "NOT_FOUND"}, "request_id": "r-1"})
        )
        with pytest.raises(NotFoundError) as info:
            await client.patients.get(99)
        assert info.value.request_id == "r-1"
        assert info.value.path == "/patient/99"


class TestValidationBeforeSending:
    @pytest.mark.parametrize("page_size", [0, 101, -1])
    def test_page_size_range(self, make_client: MakeClient, page_size: int) -> None:
        """page_size outside 1..100 raises at call time, before any request."""
        client, transport = make_client(_page)
        with pytest.raises(RequestValidationError) as info:
            client.appointments.list(page_size=page_size)
        assert info.value.field == "page_size"
        assert transport.requests == []

    async def test_bad_ids_are_rejected(self, make_client: MakeClient) -> None:
        """Path ids must be positive integers."""
        client, transport = make_client(_page)
        with pytest.raises(RequestTypeError):
            await client.appointments.get("7")  # type: ignore[arg-type]
        with pytest.raises(RequestValidationError):
            await client.appointments.get(0)
        assert transport.requests == []

    async def test_unknown_filter_field_is_rejected(self, make_client: MakeClient) -> None:
        """A filter on a field the operation does not document fails before sending."""
        client, transport = make_client(_page)
        with pytest.raises(RequestValidationError) as info:
            client.appointments.list(filters=["surname:=Smith"])
        assert "surname" in str(info.value)
        assert transport.requests == []

    async def test_body_rules_apply(self, make_client: MakeClient) -> None:
        """duration must be 5..1440 in steps of 5; item_id and item_group_id are exclusive."""
        client, transport = make_client(lambda r: json_response(201, {}))
        common = {
            "client_id": 1, "appointment_type_id": 2, "app_time": datetime(2026, 1, 5, 9),
            "practitioner_id": 3, "business_id": 4,
        }
        with pytest.raises(RequestValidationError) as info:
            await client.appointments.create(duration=7, **common)  # type: ignore[arg-type]
        assert info.value.field.endswith("duration")
        with pytest.raises(RequestValidationError):
            await client.appointments.create(duration=30, item_id=1, item_group_id=2, **common)  # type: ignore[arg-type]
        assert transport.requests == []

    async def test_patient_name_length(self, make_client: MakeClient) -> None:
        """Patient first_name/surname over 40 characters are rejected, the value not echoed."""
        client, transport = make_client(lambda r: json_response(201, {}))
        long_name = "Z" * 41
        with pytest.raises(RequestValidationError) as info:
            await client.patients.create(first_name="Ann", surname=long_name)
        assert long_name not in str(info.value)
        assert transport.requests == []


class TestSharing:
    async def test_concurrency_cap_holds_across_tasks(self, make_client: MakeClient) -> None:
        """However many tasks share a client, at most max_concurrency requests are in flight."""
        in_flight = 0
        peak = 0

        async def handler(req: RecordedRequest):
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0)
            in_flight -= 1
            return json_response(200, {"appointment_id": 1})

        client, transport = make_client(handler, max_concurrency=4, burst=1000)
        await asyncio.gather(*(client.appointments.get(1) for _ in range(200)))
        assert len(transport.requests) == 200
        assert peak == 4

    def test_client_is_not_constructed_with_bad_settings(self) -> None:
        """Bad settings raise ConfigurationError at construction."""
        from pracsuite_async import ConfigurationError

        for kwargs in ({"max_concurrency": 0}, {"rate_limit": -1}, {"timeout": 0}, {"page_window": 0}):
            with pytest.raises(ConfigurationError):
                PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, **kwargs)  # type: ignore[arg-type]


class TestLimiterChoices:
    async def test_aiolimiter_is_accepted_and_429_pauses_it(self, make_client: MakeClient, clock) -> None:
        """An aiolimiter.AsyncLimiter is wrapped; a 429 still pauses later calls until Retry-After."""
        from aiolimiter import AsyncLimiter

        from pracsuite_async import AiolimiterAdapter

        sent_at: list[float] = []
        replies = [json_response(429, {}, {"Retry-After": "3"})]

        def handler(req: RecordedRequest):
            sent_at.append(clock.now())
            return replies.pop() if replies else json_response(200, {"appointment_id": 1})

        client, _ = make_client(handler, rate_limit=AsyncLimiter(1000, 1))
        assert isinstance(client.limiter, AiolimiterAdapter)
        # The second call starts after the first one's 429: only the limiter can hold it.
        await asyncio.gather(client.appointments.get(1), client.appointments.get(2))
        assert len(sent_at) == 3
        assert min(sent_at[1:]) - sent_at[0] >= 3.0

    async def test_exhausted_rate_limit_headers_pause_senders(self, make_client: MakeClient, clock) -> None:
        """X-RateLimit-Remaining: 0 with a Reset pauses the next request until the reset."""
        sent_at: list[float] = []

        def handler(req: RecordedRequest):
            sent_at.append(clock.now())
            headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "5"}
            return json_response(200, {"appointment_id": 1}, headers if len(sent_at) == 1 else {})

        client, _ = make_client(handler)
        await client.appointments.get(1)
        await client.appointments.get(1)
        assert sent_at[1] - sent_at[0] >= 5.0


class TestSerialisation:
    def test_to_dict_and_from_dict_round_trip_unknown_fields(self) -> None:
        """to_dict writes wire names and formats, keeps unknown fields; from_dict reads them back."""
        from pracsuite_async import from_dict, to_dict

        data = {"appointment_id": 3, "app_time": "2025-01-03T10:15:00", "links": {"self": "u"}, "new_field": [1]}
        appt = from_dict(data, Appointment)
        out = to_dict(appt)
        assert out["new_field"] == [1]
        assert out["links"]["self"] == "u"
        assert out["app_time"] == "2025-01-03T10:15:00"
        assert from_dict(out, Appointment) == appt

    def test_to_dict_writes_absent_fields_as_null_and_times_in_api_form(self) -> None:
        """As its docstring says: absent fields come back as null, timestamps as UTC with Z, extras last."""
        from pracsuite_async import from_dict, to_dict

        data = {"appointment_id": 3, "created": "2025-01-03T10:15:00.000+10:00", "new_field": None}
        out = to_dict(from_dict(data, Appointment))
        assert "notes" not in data
        assert out["notes"] is None
        assert out["created"] == "2025-01-03T00:15:00Z"
        assert list(out)[-1] == "new_field"
        assert out["new_field"] is None

    def test_from_dict_rejects_bad_data_without_the_value(self) -> None:
        """Bad data raises ResponseDecodeError naming the path, not the value."""
        from pracsuite_async import from_dict

        with pytest.raises(ResponseDecodeError) as info:
            from_dict({"app_time": "secret-ish-value"}, Appointment)
        assert "$.app_time" in str(info.value)
        assert "secret-ish-value" not in str(info.value)
