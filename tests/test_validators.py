"""Request validation: every rule names the field and the rule, never the value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator

from pracsuite_async import models
from pracsuite_async._converter import unstructure
from pracsuite_async._errors import RequestTypeError, RequestValidationError
from pracsuite_async._validators import Revision, between, each, integer, one_of, one_revision, optional
from pracsuite_async.models._generated import VALID_TIMEZONES
from tests.strategies import SPEC

SECRET = "Jane-SENTINEL-Q7"
WHEN = datetime(2026, 5, 4, 9, 30)
BASE = {"client_id": 1, "appointment_type_id": 2, "app_time": WHEN, "duration": 30}
CURRENT = {**BASE, "practitioner_id": 3, "business_id": 4}
OLDER = {**BASE, "practitioner_business_id": 34}


def raises(build: Callable[[], object], field: str, *, secret: str | None = None) -> RequestValidationError:
    """Run ``build``, expect a RequestValidationError about ``field`` whose text omits ``secret``."""
    with pytest.raises(RequestValidationError) as info:
        build()
    err = info.value
    assert err.field == field
    assert str(err).startswith(f"{field}: ")
    if secret is not None:
        assert secret not in str(err)
        assert secret not in repr(err)
        assert secret not in err.rule
    return err


class TestFieldRules:
    @pytest.mark.parametrize("duration", [0, 4, 1445, 2000, 7, 33])
    def test_duration_range_and_step(self, duration: int) -> None:
        """duration must be 5..1440 minutes in steps of 5."""
        err = raises(lambda: models.AppointmentCreate(**{**CURRENT, "duration": duration}), "duration")
        assert err.rule in {"must be between 5 and 1440", "must be a multiple of 5"}

    def test_patient_names_are_at_most_40_characters(self) -> None:
        """first_name and surname are capped at 40 characters; the name is not echoed."""
        long = SECRET * 4
        raises(lambda: models.PatientCreate(first_name=long, surname="S"), "first_name", secret=SECRET)
        raises(lambda: models.PatientEdit(surname=long), "surname", secret=SECRET)

    def test_timezone_must_be_an_iana_zone(self) -> None:
        """timezone accepts the guide's zones and any other IANA id zoneinfo knows; anything else is refused."""
        assert models.PatientEdit(timezone="Australia/Adelaide").timezone == "Australia/Adelaide"
        assert "UTC" not in VALID_TIMEZONES
        assert "Europe/Kyiv" not in VALID_TIMEZONES
        assert models.PatientCreate(first_name="A", surname="B", timezone="UTC").timezone == "UTC"
        assert models.PatientEdit(timezone="Europe/Kyiv").timezone == "Europe/Kyiv"
        raises(lambda: models.PatientEdit(timezone=SECRET), "timezone", secret=SECRET)
        raises(lambda: models.PatientEdit(timezone="../../etc/passwd"), "timezone")
        assert "Europe/London" in VALID_TIMEZONES
        assert len(VALID_TIMEZONES) == 425

    def test_timezone_none_clears_on_edit_only(self) -> None:
        """PatientEdit(timezone=None) is allowed (null clears it) and is sent as null; create refuses None."""
        body = unstructure(models.PatientEdit(timezone=None))
        assert body == {"timezone": None}
        raises(lambda: models.PatientCreate(first_name="A", surname="B", timezone=None), "timezone")  # type: ignore[arg-type]

    def test_hourly_billing_goes_with_either_revision(self) -> None:
        """hourly_billing is an ordinary flag: allowed with practitioner_id/business_id and with the older fields."""
        current = models.AppointmentCreate(**BASE, practitioner_id=3, business_id=4, hourly_billing=True)
        older = models.AppointmentCreate(**BASE, practitioner_business_id=34, hourly_billing=True)
        assert current.hourly_billing is older.hourly_billing is True

    @pytest.mark.parametrize("value", [0, -3])
    def test_ids_are_positive(self, value: int) -> None:
        """Ids (``*_id`` fields and ``*_ids`` items) must be at least 1."""
        raises(lambda: models.AppointmentCreate(**{**CURRENT, "client_id": value}), "client_id")
        raises(lambda: models.AppointmentEdit(resource_ids=[1, value]), "resource_ids")

    @pytest.mark.parametrize("value", ["5", 5.0, True, None])
    def test_integers_must_be_int_not_bool(self, value: object) -> None:
        """An int field given a str, float, bool or None raises a RequestTypeError, also a TypeError."""
        err = raises(lambda: models.AppointmentCancel(appointment_cancellation_reason_id=value), "appointment_cancellation_reason_id")  # type: ignore[arg-type]
        assert isinstance(err, RequestTypeError)
        assert isinstance(err, TypeError)

    def test_type_errors_do_not_echo_the_value(self) -> None:
        """A wrongly typed value is not repeated in the error."""
        err = raises(lambda: models.PatientEdit(sex_id=SECRET), "sex_id", secret=SECRET)  # type: ignore[arg-type]
        assert isinstance(err, RequestTypeError)

    def test_marketing_types_are_1_to_4(self) -> None:
        """Marketing preferences are written as 1..4."""
        assert models.PatientEdit(sms_marketing_type=4).sms_marketing_type == 4
        raises(lambda: models.PatientEdit(sms_marketing_type=5), "sms_marketing_type")
        raises(lambda: models.PatientCreate(first_name="A", surname="B", email_marketing_type=0), "email_marketing_type")

    def test_preferred_phone_is_home_or_mobile(self) -> None:
        """preferred_phone is 1 (home) or 3 (mobile)."""
        raises(lambda: models.PatientEdit(preferred_phone=2), "preferred_phone")

    def test_app_time_must_be_naive(self) -> None:
        """app_time is tenant-local wall-clock time: an aware datetime is rejected."""
        raises(lambda: models.AppointmentEdit(app_time=WHEN.replace(tzinfo=UTC)), "app_time")
        err = raises(lambda: models.AppointmentEdit(app_time="2026-05-04T09:30:00"), "app_time")  # type: ignore[arg-type]
        assert isinstance(err, RequestTypeError)

    def test_dates_must_be_dates(self) -> None:
        """A date field rejects a datetime and a string."""
        raises(lambda: models.PatientEdit(date_of_birth=WHEN), "date_of_birth")
        raises(lambda: models.PatientEdit(date_of_birth="2000-01-01"), "date_of_birth", secret="2000")  # type: ignore[arg-type]

    def test_colours_are_hex(self) -> None:
        """Note colours are #RRGGBB."""
        note = {"app_time": WHEN, "practitioner_id": 1, "business_id": 1, "duration": 15, "description": "x"}
        assert models.NoteCreate(**note, bg_colour="#FFD700").bg_colour == "#FFD700"
        raises(lambda: models.NoteCreate(**note, bg_colour="gold"), "bg_colour", secret="gold")

    def test_lists_must_be_lists(self) -> None:
        """A list field rejects a string (which would otherwise iterate as characters)."""
        raises(lambda: models.AppointmentEdit(resource_ids="12"), "resource_ids")  # type: ignore[arg-type]

    def test_columns_and_widths_start_at_one(self) -> None:
        """column_number, column and width are at least 1."""
        raises(lambda: models.AppointmentEdit(width=0), "width")
        raises(lambda: models.AppointmentCreate(**{**OLDER, "column": 0}), "column")

    def test_none_is_only_for_nullable_fields(self) -> None:
        """item_id may be sent as null; a plain optional field may not be None."""
        assert models.AppointmentEdit(item_id=None).item_id is None
        raises(lambda: models.AppointmentEdit(width=None), "width")  # type: ignore[arg-type]


class TestModelRules:
    def test_item_and_item_group_are_exclusive(self) -> None:
        """item_id and item_group_id cannot both be given."""
        for cls in (models.AppointmentEdit, models.GroupAppointmentMemberAdd):
            extra = {"client_id": 1} if cls is models.GroupAppointmentMemberAdd else {}
            raises(lambda cls=cls, extra=extra: cls(**extra, item_id=1, item_group_id=2), "item_group_id")
        assert models.AppointmentEdit(item_id=1, item_group_id=None).item_id == 1

    def test_current_revision_is_accepted(self) -> None:
        """practitioner_id + business_id (+ column_number) is the current appointment body."""
        body = models.AppointmentCreate(**CURRENT, column_number=2)
        assert unstructure(body)["column_number"] == 2

    def test_older_revision_is_accepted_and_sent_as_given(self) -> None:
        """practitioner_business_id + column (+ hourly_billing) is the older body, sent unchanged."""
        body = models.AppointmentCreate(**OLDER, column=2, hourly_billing=True)
        sent = unstructure(body)
        assert sent["practitioner_business_id"] == 34
        assert sent["column"] == 2
        assert "practitioner_id" not in sent
        reserve = models.AppointmentReserve(app_time=WHEN, duration=15, practitioner_business_id=5, column=1)
        assert unstructure(reserve)["practitioner_business_id"] == 5

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"practitioner_id": 3, "practitioner_business_id": 34}, "practitioner_business_id"),
            ({"business_id": 4, "column": 2, "practitioner_business_id": 34}, "practitioner_business_id"),
        ],
    )
    def test_mixing_revisions_is_an_error(self, changes: dict[str, Any], field: str) -> None:
        """A body using fields of both revisions is rejected, naming an older-revision field."""
        raises(lambda: models.AppointmentCreate(**BASE, **changes), field)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({}, "practitioner_id"),
            ({"business_id": 4}, "practitioner_id"),
            ({"practitioner_id": 3, "column_number": 1}, "business_id"),
            ({"column": 2}, "practitioner_business_id"),
        ],
    )
    def test_missing_field_of_the_chosen_revision(self, changes: dict[str, Any], field: str) -> None:
        """The chosen revision's required fields must be given (the current one when none is chosen)."""
        raises(lambda: models.AppointmentCreate(**BASE, **changes), field)
        reserve = {"app_time": WHEN, "duration": 15, **changes}
        raises(lambda: models.AppointmentReserve(**reserve), field)

    def test_availability_window_is_at_most_7_days(self) -> None:
        """to may not be before from_, nor more than 7 days after it."""
        ok = models.ListAvailableAppointmentsQuery(from_=date(2026, 1, 1), to=date(2026, 1, 8), appointment_type_id=1)
        assert ok.to == date(2026, 1, 8)
        for cls in (models.ListAvailableAppointmentsQuery, models.GetNextAvailableGroupAppointmentQuery):
            raises(lambda cls=cls: cls(from_=date(2026, 1, 1), to=date(2026, 1, 9), appointment_type_id=1), "to")
            raises(lambda cls=cls: cls(from_=date(2026, 1, 5), to=date(2026, 1, 4), appointment_type_id=1), "to")

    def test_client_id_is_required_with_account_id(self) -> None:
        """An availability search with account_id needs client_id too."""
        window = {"from_": date(2026, 1, 1), "to": date(2026, 1, 2), "appointment_type_id": 1}
        raises(lambda: models.GetNextAvailableAppointmentQuery(**window, account_id=5), "client_id")
        assert models.GetNextAvailableAppointmentQuery(**window, account_id=5, client_id=6).client_id == 6


class TestValidatorObjects:
    def test_validators_have_useful_reprs(self) -> None:
        """Validator factories return small callables whose repr says what they check."""
        assert repr(between(5, 1440)) == "<between validator: 5..1440>"
        assert "an integer" in repr(optional(integer()))
        assert "one_of" in repr(one_of((1, 3)))
        assert "each" in repr(each(integer()))
        rule = one_revision(Revision("current", ("a",), ("a",)), Revision("older", ("b",), ("b",)))
        assert repr(rule) == "<one_revision rule: current | older>"


def _schema_of(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {**SPEC["components"]["schemas"][name], "components": SPEC["components"]}
    return schema


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("AppointmentCreate", models.AppointmentCreate(**CURRENT, resource_ids=[1], item_id=5, sms_reminder=True)),
        ("AppointmentReserve", models.AppointmentReserve(app_time=WHEN, duration=15, practitioner_id=1, business_id=2)),
        ("AppointmentFinalise", models.AppointmentFinalise(client_id=1, appointment_type_id=2, item_group_id=3)),
        ("AppointmentEdit", models.AppointmentEdit(app_time=WHEN, duration=45, reason="moved")),
        ("AppointmentCancel", models.AppointmentCancel(record_as_cancelled=True, appointment_cancellation_reason_id=2)),
        ("PatientCreate", models.PatientCreate(first_name="A", surname="B", date_of_birth=date(2000, 1, 2), timezone="Australia/Perth")),
        ("NoteCreate", models.NoteCreate(app_time=WHEN, practitioner_id=1, business_id=1, duration=15, description="x", font_colour="#000000")),
        ("GroupAppointmentMemberRemove", models.GroupAppointmentMemberRemove(client_id=1, record_as_cancelled=False)),
        ("AttachmentUploadRequest", models.AttachmentUploadRequest(file_name="scan.pdf")),
    ],
)
def test_valid_bodies_match_the_spec(name: str, body: object) -> None:
    """What a valid request model sends is valid against the spec's request schema."""
    OAS31Validator(_schema_of(name)).validate(unstructure(body))
