"""Response and request models: round trips from spec-shaped payloads, nulls, hidden patient data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pracsuite_async import models
from pracsuite_async._converter import StructureError, structure, unstructure
from pracsuite_async._endpoints import OPERATIONS
from tests.strategies import SCHEMAS, example, objects, properties, response_item_schema

# One operation per response model: its payload schema and the model it decodes to.
_CASES: dict[str, tuple[str, Any]] = {}
for _op_id, _row in OPERATIONS.items():
    _schema = response_item_schema(_op_id)
    if _schema is not None and _row.result is not str:
        _model = getattr(_row.result, "__args__", (_row.result,))[0]
        _CASES.setdefault(_model.__name__, (_op_id, _schema))
CASES = sorted(_CASES.items())
RESPONSE_MODELS = sorted(
    (cls for cls in map(models.__dict__.get, models.__all__) if isinstance(cls, type) and issubclass(cls, models.Model)),
    key=lambda cls: cls.__name__,
)

SENTINEL = "PHI-SENTINEL-5d1e"
SENTINEL_DAY = "1901-02-03"
#: Patient data by wire name, checked independently of the generator's own table.
PHI_NAMES = {
    "first_name", "middle_name", "surname", "preferred_name", "date_of_birth", "email", "gender", "sex",
    "pronouns", "address_1", "address_2", "suburb", "postcode", "home_phone", "work_phone", "mobile",
    "file_no", "patient_notes", "patient_warnings", "medical_warnings", "family_notes", "notes",
    "medicare_no", "medicare_irn", "dva_no", "health_fund_member_no", "pension_no", "ndis_number",
    "referrer", "referrer_email", "gp_name", "occupation", "relationship", "billing_name", "injury",
    "telehealth_patient_link", "telehealth_practitioner_link", "covid_vaccination_status", "time_zone",
}
#: Per model, further fields that carry free text about a patient.
PHI_BY_MODEL = {
    "Appointment": {"description"},
    "CancelledAppointment": {"description", "reason"},
    "Note": {"description"},
    "PatientAttachment": {"description"},
}


def same_json(sent: Any, back: Any, path: str = "$") -> None:
    """``back`` carries every value of ``sent`` unchanged; keys it adds are known fields set to null."""
    if isinstance(sent, dict):
        assert isinstance(back, dict), path
        for key, value in sent.items():
            assert key in back, f"{path}.{key} lost"
            same_json(value, back[key], f"{path}.{key}")
        for key in back.keys() - sent.keys():
            assert back[key] is None, f"{path}.{key} invented"
    elif isinstance(sent, list):
        assert isinstance(back, list), path
        assert len(back) == len(sent), path
        for i, (a, b) in enumerate(zip(sent, back, strict=True)):
            same_json(a, b, f"{path}[{i}]")
    else:
        assert type(back) is type(sent), path
        assert back == sent, path


def model_class(name: str) -> type[models.Model]:
    cls = getattr(models, name)
    assert issubclass(cls, models.Model)
    return cls  # type: ignore[no-any-return]


class TestRoundTrip:
    @pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
    def test_spec_example_round_trips(self, name: str, case: tuple[str, Any]) -> None:
        """A payload built from the spec's examples survives structure then unstructure unchanged."""
        payload = example(case[1])
        obj = structure(payload, model_class(name))
        same_json(payload, unstructure(obj))
        assert obj.extra == {}

    @pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_generated_payloads_round_trip(self, name: str, case: tuple[str, Any], data: st.DataObject) -> None:
        """Any spec-shaped payload, with nulls and unknown keys anywhere, round-trips with all its keys."""
        payload = data.draw(objects(case[1]))
        obj = structure(payload, model_class(name))
        back = unstructure(obj)
        same_json(payload, back)
        assert structure(back, model_class(name)) == obj
        assert set(obj.extra) == {k for k in payload if k.startswith("zz_")}

    @pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
    def test_nulls_everywhere_are_accepted(self, name: str, case: tuple[str, Any]) -> None:
        """Every optional field null decodes to None; a required field (the id) null is a named problem."""
        cls = model_class(name)
        required = {f.metadata.get("wire", f.name) for f in attrs.fields(cls) if f.default is attrs.NOTHING}
        payload = dict.fromkeys(properties(case[1]))
        if required:
            with pytest.raises(StructureError) as info:
                structure(payload, cls)
            assert set(info.value.problems) == {f"required, missing or null @ $.{key}" for key in required}
            full = example(case[1])
            payload.update({key: full[key] for key in required})
        obj = structure(payload, cls)
        wires = {f.name: f.metadata.get("wire", f.name) for f in attrs.fields(cls)}
        assert all(getattr(obj, n) is None for n, w in wires.items() if n != "extra" and w not in required)
        same_json(payload, unstructure(obj))

    def test_every_model_is_reachable_from_an_operation(self) -> None:
        """Each exported response model is an operation's result or nested in one."""
        roots = {name for name, _ in CASES}
        nested = {
            a.type.split(" | ")[0].removeprefix("list[").removesuffix("]")
            for cls in RESPONSE_MODELS
            for a in attrs.fields(cls)
            if isinstance(a.type, str)
        }
        assert {cls.__name__ for cls in RESPONSE_MODELS} - {"Model"} <= roots | nested


class TestShapes:
    def test_with_meta_schemas_merge_into_one_class(self) -> None:
        """``AppointmentWithMeta`` is ``Appointment`` with ``row_num``/``total_rows``, not a second class."""
        names = {f.name for f in attrs.fields(models.Appointment)}
        assert {"row_num", "total_rows", "app_time", "created"} <= names
        assert not hasattr(models, "AppointmentWithMeta")

    def test_links_self_is_renamed_but_keeps_its_wire_name(self) -> None:
        """``links.self`` becomes ``self_`` in Python and ``self`` on the wire."""
        obj = structure({"appointment_id": 1, "links": {"self": "https://x/1"}}, models.Appointment)
        assert isinstance(obj.links, models.AppointmentLinks)
        assert obj.links.self_ == "https://x/1"
        assert unstructure(obj)["links"]["self"] == "https://x/1"

    def test_category_may_be_text_or_number(self) -> None:
        """``AppointmentLite.category`` accepts the current string and the older integer."""
        lite = {"appointment_id": 1, "app_time": "2026-01-01T12:05:30", "duration": 30}
        assert structure({**lite, "category": "Reserved"}, models.AppointmentLite).category == "Reserved"
        assert structure({**lite, "category": 0}, models.AppointmentLite).category == 0

    def test_unknown_enum_values_pass_through(self) -> None:
        """Enum-like strings are plain ``str``: an undocumented value is kept, not rejected."""
        assert structure({"client_id": 1, "sms_marketing": "Maybe"}, models.Patient).sms_marketing == "Maybe"

    def test_times_have_their_python_types(self) -> None:
        """app_time is naive, timestamps are aware, dates are dates."""
        obj = structure(
            {"appointment_id": 1, "app_time": "2026-01-01T12:05:30", "created": "2020-09-12T11:09:42.687393Z"},
            models.Appointment,
        )
        assert isinstance(obj.app_time, datetime)
        assert obj.app_time.tzinfo is None
        assert obj.created is not None
        assert obj.created.utcoffset() is not None
        assert isinstance(structure({"client_id": 1, "date_of_birth": "2000-01-02"}, models.Patient).date_of_birth, date)


class TestRepr:
    # A clinic's (Business) address and phone are not patient data.
    @pytest.mark.parametrize(
        ("name", "case"), [c for c in CASES if c[0] != "Business"], ids=[n for n, _ in CASES if n != "Business"]
    )
    def test_patient_data_never_appears_in_repr(self, name: str, case: tuple[str, Any]) -> None:
        """Sentinel values in patient-data fields (nested ones too) are absent from the repr."""
        phi = PHI_NAMES | PHI_BY_MODEL.get(name, set())
        payload = example(case[1])
        for key, sub in properties(case[1]).items():
            if key in phi:
                is_date = "Date" in str(sub.get("$ref", "")) or sub.get("format") == "date"
                payload[key] = SENTINEL_DAY if is_date else SENTINEL
        obj = structure(payload, model_class(name))
        text = repr(obj)
        assert SENTINEL not in text
        assert "1901" not in text
        hidden = {f.metadata.get("wire", f.name) for f in attrs.fields(type(obj)) if not f.repr}
        assert phi & set(payload) <= hidden

    def test_ids_statuses_and_times_stay_visible(self) -> None:
        """The repr keeps what identifies a record: ids, statuses and times."""
        obj = structure(
            {"appointment_id": 77, "appointment_status_id": 3, "app_time": "2026-01-01T09:00:00", "notes": SENTINEL},
            models.Appointment,
        )
        text = repr(obj)
        assert "appointment_id=77" in text
        assert "appointment_status_id=3" in text
        assert "2026" in text
        assert SENTINEL not in text

    def test_extra_fields_stay_out_of_repr(self) -> None:
        """Unknown keys may hold patient data, so ``extra`` is not shown."""
        obj = structure({"client_id": 1, "zz_new": SENTINEL}, models.Patient)
        assert obj.extra == {"zz_new": SENTINEL}
        assert SENTINEL not in repr(obj)

    def test_request_models_hide_patient_data(self) -> None:
        """Request bodies built from a patient's details do not show them in repr."""
        body = models.PatientCreate(first_name=SENTINEL[:40], surname=SENTINEL[:40], email=SENTINEL)
        assert SENTINEL[:10] not in repr(body)
        assert "UNSET" in repr(body)

    def test_phi_fields_are_marked_in_metadata(self) -> None:
        """Every field hidden from repr is marked ``phi`` for the redaction machinery, and vice versa."""
        for cls in RESPONSE_MODELS:
            for a in attrs.fields(cls):
                if a.name != "extra":
                    assert (not a.repr) == bool(a.metadata.get("phi")), (cls.__name__, a.name)


def test_request_models_are_keyword_only_with_unset_defaults() -> None:
    """Request models take keywords only; optional fields default to UNSET, never None."""
    from pracsuite_async._types import UNSET

    for name in ("AppointmentCreate", "PatientEdit", "ListAvailableAppointmentsQuery", "AppointmentCancel"):
        cls = getattr(models, name)
        for a in attrs.fields(cls):
            assert a.kw_only, (name, a.name)
            assert a.default is UNSET or a.default is attrs.NOTHING, (name, a.name)


def test_schemas_without_models_are_envelope_or_requests() -> None:
    """Every object schema of the spec has a model, except envelope parts and merged ``WithMeta`` variants."""
    envelope = {"PageMetadata", "ListLinks", "ErrorDetail", "Error"}
    for name, schema in SCHEMAS.items():
        if name in envelope or name.endswith("WithMeta") or ("properties" not in schema and "allOf" not in schema):
            continue
        assert hasattr(models, name), name
