"""The converter: time formats, unknown keys, request encoding, and decode problems without values."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta, timezone

import attrs
import cattrs
import pytest

from pracsuite_async import RequestValidationError, models
from pracsuite_async._converter import (
    CONVERTER,
    StructureError,
    field_names,
    query_params,
    structure,
    structure_list,
    unstructure,
)
from pracsuite_async._types import UNSET

SECRET = "Smith-SENTINEL-42"
AEST = timezone(timedelta(hours=10))


def full_appointment(**changes: object) -> dict[str, object]:
    """An Appointment record with every known key present (the converter's fast path)."""
    record: dict[str, object] = dict.fromkeys(
        f.metadata.get("wire", f.name) for f in models.Appointment.__attrs_attrs__ if f.name != "extra"
    )
    record.update(changes)
    return record


class TestTimes:
    def test_app_time_is_naive_and_written_without_offset(self) -> None:
        """app_time is tenant-local: parsed naive and written back as yyyy-MM-ddTHH:mm:ss."""
        obj = structure({"appointment_id": 1, "app_time": "2026-01-01T12:05:30"}, models.Appointment)
        assert obj.app_time == datetime(2026, 1, 1, 12, 5, 30)
        assert unstructure(obj)["app_time"] == "2026-01-01T12:05:30"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2019-08-24T14:15:22Z", datetime(2019, 8, 24, 14, 15, 22)),  # the founding document's example
            ("2019-08-24T14:15:22z", datetime(2019, 8, 24, 14, 15, 22)),
            ("2019-08-24T14:15:22+10:00", datetime(2019, 8, 24, 14, 15, 22)),
            ("2019-08-24T14:15:22.250", datetime(2019, 8, 24, 14, 15, 22, 250000)),
            ("2019-08-24t14:15:22", datetime(2019, 8, 24, 14, 15, 22)),
        ],
    )
    @pytest.mark.parametrize("full", [True, False], ids=["fast", "sparse"])
    def test_app_time_reads_leniently_as_wall_clock(self, text: str, expected: datetime, full: bool) -> None:
        """A Z, an offset or a fraction on app_time is read, keeping the naive wall-clock time."""
        record = full_appointment(appointment_id=1, app_time=text) if full else {"appointment_id": 1, "app_time": text}
        obj = structure(record, models.Appointment)
        assert obj.app_time == expected
        assert obj.app_time.tzinfo is None  # type: ignore[union-attr]

    def test_app_time_fraction_round_trips(self) -> None:
        """Fractional seconds read on app_time are written back, not truncated."""
        obj = structure({"appointment_id": 1, "app_time": "2019-08-24T14:15:22.250"}, models.Appointment)
        assert unstructure(obj)["app_time"] == "2019-08-24T14:15:22.250000"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2020-09-12T11:09:42.687393Z", datetime(2020, 9, 12, 11, 9, 42, 687393, tzinfo=UTC)),
            ("2020-09-12T11:09:42.687393z", datetime(2020, 9, 12, 11, 9, 42, 687393, tzinfo=UTC)),
            ("2020-09-12T11:09:42Z", datetime(2020, 9, 12, 11, 9, 42, tzinfo=UTC)),
            ("2020-09-12T11:09:42", datetime(2020, 9, 12, 11, 9, 42, tzinfo=UTC)),
            ("2020-09-12T21:09:42+10:00", datetime(2020, 9, 12, 21, 9, 42, tzinfo=AEST)),
        ],
    )
    def test_timestamps_are_aware(self, text: str, expected: datetime) -> None:
        """Timestamps accept Z, z, an offset or none (then UTC) and keep microseconds."""
        obj = structure({"appointment_id": 1, "created": text}, models.Appointment)
        assert obj.created == expected
        assert obj.created is not None
        assert obj.created.utcoffset() is not None

    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (datetime(2020, 9, 12, 11, 9, 42, 687393, tzinfo=UTC), "2020-09-12T11:09:42.687393Z"),
            (datetime(2020, 9, 12, 11, 9, 42, tzinfo=UTC), "2020-09-12T11:09:42Z"),
            (datetime(2020, 9, 12, 21, 9, 42, tzinfo=AEST), "2020-09-12T11:09:42Z"),
        ],
    )
    def test_timestamps_are_written_in_utc_with_z(self, value: datetime, text: str) -> None:
        """Timestamps are written as RFC 3339 UTC with Z, microseconds only when present."""
        assert unstructure(models.Appointment(appointment_id=1, created=value))["created"] == text

    def test_dates_round_trip(self) -> None:
        """Dates are ``date`` objects written as yyyy-MM-dd."""
        obj = structure({"client_id": 1, "date_of_birth": "1980-02-29"}, models.Patient)
        assert obj.date_of_birth == date(1980, 2, 29)
        assert unstructure(obj)["date_of_birth"] == "1980-02-29"

    def test_other_date_times_keep_what_they_carry(self) -> None:
        """Untyped date-times are naive without an offset and aware with one."""
        naive = structure({"client_id": 1, "file_created": "2019-05-06T07:08:09"}, models.Patient).file_created
        aware = structure({"client_id": 1, "file_created": "2019-05-06T07:08:09Z"}, models.Patient).file_created
        assert naive is not None
        assert naive.tzinfo is None
        assert aware == datetime(2019, 5, 6, 7, 8, 9, tzinfo=UTC)
        assert unstructure(models.Patient(client_id=1, file_created=aware))["file_created"] == "2019-05-06T07:08:09Z"

    def test_request_app_time_rejects_microseconds(self) -> None:
        """Writes are strict: a request app_time with microseconds is refused, never truncated."""
        with pytest.raises(RequestValidationError) as info:
            models.AppointmentEdit(app_time=datetime(2026, 3, 4, 9, 30, 0, 123456))
        assert info.value.field == "app_time"
        body = models.AppointmentEdit(app_time=datetime(2026, 3, 4, 9, 30))
        assert unstructure(body) == {"app_time": "2026-03-04T09:30:00"}


class TestUnknownKeys:
    def test_unknown_keys_are_kept_on_the_fast_path(self) -> None:
        """A record with every known key plus new ones keeps the new ones in ``extra``."""
        obj = structure(full_appointment(appointment_id=1, zz_new=[1, 2]), models.Appointment)
        assert obj.extra == {"zz_new": [1, 2]}
        assert unstructure(obj)["zz_new"] == [1, 2]

    def test_a_full_record_has_no_extra(self) -> None:
        """A record with exactly the known keys has an empty ``extra``."""
        assert structure(full_appointment(appointment_id=1), models.Appointment).extra == {}

    def test_unknown_keys_with_a_missing_known_key(self) -> None:
        """As many keys as the model but one unknown: the unknown is kept, the missing one is None."""
        record = full_appointment(appointment_id=3)
        del record["notes"]
        record["zz_new"] = "x"
        obj = structure(record, models.Appointment)
        assert obj.extra == {"zz_new": "x"}
        assert obj.notes is None

    def test_nested_unknown_keys_are_kept(self) -> None:
        """Unknown keys inside nested objects survive a round trip too."""
        payload = {"invoice_id": 1, "invoice_items": [{"invoice_item_id": 1, "zz_a": True, "payment_items": [{"zz_b": 2}]}]}
        back = unstructure(structure(payload, models.Invoice))
        assert back["invoice_items"][0]["zz_a"] is True
        assert back["invoice_items"][0]["payment_items"][0]["zz_b"] == 2

    def test_known_fields_win_over_extra_on_output(self) -> None:
        """An ``extra`` key that shadows a field never overwrites the field on the wire."""
        obj = models.Appointment(appointment_id=5, extra={"appointment_id": 6, "zz": 1})
        out = unstructure(obj)
        assert out["appointment_id"] == 5
        assert out["zz"] == 1


class TestProblems:
    def test_problems_name_paths_not_values(self) -> None:
        """Each problem reads 'message @ $.path' and never quotes the bad value."""
        payload = {"appointment_id": 1, "links": [SECRET], "created": SECRET, "resource_ids": SECRET, "app_time": SECRET}
        with pytest.raises(StructureError) as info:
            structure(payload, models.Appointment)
        problems = info.value.problems
        assert set(problems) == {
            "expected an object @ $.links",
            "expected an RFC 3339 timestamp @ $.created",
            "expected a list @ $.resource_ids",
            "expected a local date-time yyyy-MM-ddTHH:mm:ss @ $.app_time",
        }
        assert SECRET not in str(info.value)
        assert SECRET not in repr(info.value)
        assert info.value.__context__ is None
        assert info.value.__cause__ is None

    def test_list_problems_carry_the_index(self) -> None:
        """Problems in a page name the record's index under the given path."""
        page = [{"invoice_id": 1}, {"invoice_id": 2, "invoice_items": [{"invoice_item_id": 3, "item_time": SECRET}]}]
        with pytest.raises(StructureError) as info:
            structure_list(page, models.Invoice, path="$.invoices")
        assert info.value.problems == (
            "expected a local date-time yyyy-MM-ddTHH:mm:ss @ $.invoices[1].invoice_items[0].item_time",
        )
        assert SECRET not in str(info.value)

    @pytest.mark.parametrize("data", [None, [], "text", 3])
    def test_a_record_that_is_not_an_object(self, data: object) -> None:
        """A record that is not a JSON object is one problem at the root."""
        with pytest.raises(StructureError) as info:
            structure(data, models.Appointment)
        assert info.value.problems == ("expected an object @ $",)

    def test_a_page_that_is_not_a_list(self) -> None:
        """structure_list wants a list."""
        with pytest.raises(StructureError, match=r"expected a list @ \$"):
            structure_list({"a": 1}, models.Appointment)  # type: ignore[arg-type]

    def test_errors_are_value_errors_and_pickle(self) -> None:
        """StructureError is a ValueError and survives pickling with its problems."""
        err = StructureError(["expected a list @ $.x"])
        assert isinstance(err, ValueError)
        assert pickle.loads(pickle.dumps(err)).problems == err.problems

    def test_plain_result_types_are_checked_not_coerced(self) -> None:
        """A plain result type (the redirect's Location) must already have that type."""
        assert structure("https://s3/x", str) == "https://s3/x"
        with pytest.raises(StructureError, match="expected str"):
            structure(5, str)


class TestApi:
    def test_list_results_decode_item_by_item(self) -> None:
        """``list[Model]`` (non-paginated list operations) decodes as a list of models."""
        got = structure([{"app_time": "2026-01-01T09:00:00"}], list[models.AvailableAppointment])
        assert isinstance(got[0], models.AvailableAppointment)
        assert structure_list([{}], list[models.AvailableAppointment])[0] == models.AvailableAppointment()

    def test_converter_is_not_the_global_one(self) -> None:
        """The library configures its own converter and leaves cattrs' global one alone."""
        assert CONVERTER is not cattrs.global_converter
        assert isinstance(CONVERTER, cattrs.Converter)

    def test_field_names_are_python_names(self) -> None:
        """field_names lists attribute (keyword) names, without ``extra``."""
        assert field_names(models.AppointmentLinks) == ("self_", "resources")
        assert field_names(models.ListAvailableAppointmentsQuery)[:3] == ("from_", "to", "appointment_type_id")

    def test_request_bodies_drop_unset_and_keep_null(self) -> None:
        """UNSET fields are not sent; None is sent as null; sequences become lists."""
        body = models.AppointmentEdit(item_id=None, resource_ids=(3, 4), width=UNSET)
        assert unstructure(body) == {"item_id": None, "resource_ids": [3, 4]}

    def test_query_params_use_wire_names_and_explode_lists(self) -> None:
        """Query models encode bools as true/false, dates ISO, lists as repeated names, ``from_`` as ``from``."""
        query = models.ListAvailableAppointmentsQuery(
            from_=date(2026, 1, 1), to=date(2026, 1, 3), appointment_type_id=9, practitioner_ids=[1, 2], online=False
        )
        assert query_params(query) == [
            ("from", "2026-01-01"),
            ("to", "2026-01-03"),
            ("appointment_type_id", "9"),
            ("practitioner_ids", "1"),
            ("practitioner_ids", "2"),
            ("online", "false"),
        ]


class TestStrictScalars:
    @pytest.mark.parametrize("value", ["not-an-int", "1", [1], 1.5, 2.0**70, True, False, {"a": 1}])
    @pytest.mark.parametrize("full", [True, False], ids=["fast", "sparse"])
    def test_a_wrong_type_for_an_int_is_a_problem(self, value: object, full: bool) -> None:
        """A string, list, float (even 2**70), bool or object where an int belongs names the path, not the value."""
        record = full_appointment(appointment_id=1, client_id=value) if full else {"appointment_id": 1, "client_id": value}
        with pytest.raises(StructureError) as info:
            structure(record, models.Appointment)
        assert info.value.problems == ("expected an integer @ $.client_id",)
        assert repr(value) not in str(info.value)

    @pytest.mark.parametrize("value", [None, "7", 7.0, True, {"id": 7}])
    @pytest.mark.parametrize("full", [True, False], ids=["fast", "sparse"])
    def test_the_id_is_required_and_an_integer(self, value: object, full: bool) -> None:
        """A record id that is null, a string, a float, a bool or an object does not decode."""
        record = full_appointment(appointment_id=value) if full else {"appointment_id": value}
        with pytest.raises(StructureError) as info:
            structure(record, models.Appointment)
        expected = "required, missing or null" if value is None else "expected an integer"
        assert info.value.problems == (f"{expected} @ $.appointment_id",)

    def test_an_absent_id_is_a_problem(self) -> None:
        """A record without its id key does not decode."""
        with pytest.raises(StructureError) as info:
            structure({"client_id": 3}, models.Appointment)
        assert info.value.problems == ("required, missing or null @ $.appointment_id",)

    def test_spec_required_fields_are_required(self) -> None:
        """AppointmentLite requires appointment_id, app_time and duration (the spec's required list)."""
        with pytest.raises(StructureError) as info:
            structure({"appointment_id": 4, "app_time": None}, models.AppointmentLite)
        assert set(info.value.problems) == {
            "required, missing or null @ $.app_time",
            "required, missing or null @ $.duration",
        }
        lite = structure({"appointment_id": 4, "app_time": "2026-01-01T09:00:00Z", "duration": 30}, models.AppointmentLite)
        assert (lite.appointment_id, lite.app_time, lite.duration) == (4, datetime(2026, 1, 1, 9), 30)

    @pytest.mark.parametrize("value", [5, True, ["x"], {"href": "x"}])
    def test_a_nested_string_is_checked(self, value: object) -> None:
        """links.self = 5 (or any non-string) is a problem at the nested path."""
        with pytest.raises(StructureError) as info:
            structure({"appointment_id": 1, "links": {"self": value}}, models.Appointment)
        assert info.value.problems == ("expected a string @ $.links.self",)

    def test_a_required_nested_field(self) -> None:
        """PatientLinks.self is spec-required: null is a problem at its path."""
        with pytest.raises(StructureError) as info:
            structure({"client_id": 1, "links": {"self": None}}, models.Patient)
        assert info.value.problems == ("required, missing or null @ $.links.self",)

    @pytest.mark.parametrize("value", [True, "x", 1.5])
    def test_list_items_are_checked(self, value: object) -> None:
        """Items of an integer list are integers; the problem names the index."""
        with pytest.raises(StructureError) as info:
            structure({"appointment_id": 1, "resource_ids": [1, value]}, models.Appointment)
        assert info.value.problems == ("expected an integer @ $.resource_ids[1]",)

    def test_booleans_and_strings(self) -> None:
        """A 1 is not a boolean and a number is not a string."""
        with pytest.raises(StructureError) as info:
            structure({"client_id": 1, "archive": 1, "first_name": 5}, models.Patient)
        assert set(info.value.problems) == {"expected a boolean @ $.archive", "expected a string @ $.first_name"}

    def test_numbers_accept_integers(self) -> None:
        """A float field reads an int unchanged and refuses a bool or a string."""
        cls, name = next(
            (m, f.name)
            for m in (getattr(models, n) for n in models.__all__)
            if isinstance(m, type) and issubclass(m, models.Model)
            for f in m.__attrs_attrs__
            if "float" in str(f.type) and not any(a.default is attrs.NOTHING for a in m.__attrs_attrs__)
        )
        assert getattr(structure({name: 3}, cls), name) == 3
        assert getattr(structure({name: 2.5}, cls), name) == 2.5
        for bad in (True, "3"):
            with pytest.raises(StructureError, match=f"expected a number @ \\$.{name}"):
                structure({name: bad}, cls)

    def test_optional_fields_tolerate_null_and_absence(self) -> None:
        """Fields that are neither required nor the id read null and absence as None."""
        obj = structure({"appointment_id": 1, "client_id": None}, models.Appointment)
        assert (obj.client_id, obj.app_time, obj.links) == (None, None, None)

    def test_realistic_shape_keeps_unknown_nested_fields(self) -> None:
        """Optional fields absent plus an unknown nested field: decoded, the unknown kept in extra in order."""
        record = full_appointment(appointment_id=1, notes="n")
        for key in ("item_group_id", "telehealth_patient_link", "telehealth_practitioner_link"):
            del record[key]
        record["custom"] = {"source": "import", "tags": [1, 2]}
        record["zz"] = 1
        obj = structure(record, models.Appointment)
        assert obj.extra == {"custom": {"source": "import", "tags": [1, 2]}, "zz": 1}
        assert list(obj.extra) == ["custom", "zz"]
        assert obj.notes == "n"
        assert obj.item_group_id is None
