"""Patient writes (createPatient, editPatient) and their documented validation."""

from __future__ import annotations

from typing import Any

import pytest

from pracsuite_async.simulator import VALID_TIMEZONES
from tests.simulator.conftest import Api


def _fields(reply: Any) -> set[str]:
    return {v["field"] for v in reply.json["error"]["validation"]}


def test_timezone_list_is_the_spec_list(spec: dict[str, Any]) -> None:
    """The accepted time zones are exactly the spec's x-pracsuite-valid-timezones (425 ids)."""
    documented = spec["components"]["schemas"]["TimeZone"]["x-pracsuite-valid-timezones"]
    assert set(documented) == VALID_TIMEZONES
    assert len(VALID_TIMEZONES) == 425


async def test_create_minimal_patient(api: Api) -> None:
    """first_name + surname create a patient with links, a default account and list visibility."""
    reply = await api.post("/patient", {"first_name": "Grace", "surname": "Hopper"})
    assert reply.status == 201
    patient = reply.json
    cid = patient["client_id"]
    assert patient["links"]["accounts"] == f"{api.sim.base_url}/patient/{cid}/account"
    assert patient["time_zone"] is None
    assert patient["accepted_privacy_policy"] is None
    accounts = await api.get(f"/patient/{cid}/account")
    assert accounts.json["total_entries"] == 1
    assert patient["default_account_id"] in api.sim.dataset.tables["accounts"]
    found = await api.get("/patient", params=[("q[]", "surname:=Hopper"), ("q[]", "first_name:=Grace")])
    assert [p["client_id"] for p in found.json["clients"]] == [cid]


async def test_create_maps_write_names_to_read_names(api: Api) -> None:
    """timezone, marketing types, sex_id, pronoun_id and fee_cat_id come back under their read names."""
    body = {
        "first_name": "Tui",
        "surname": "Ngata",
        "timezone": "Pacific/Auckland",
        "email_marketing_type": 2,
        "sms_marketing_type": 4,
        "sex_id": 2,
        "pronoun_id": 1,
        "fee_cat_id": 2,
        "email": "tui@example.com",
        "date_of_birth": "1990-02-03",
        "default_practitioner_id": 2,
        "preferred_phone": 3,
        "default_sms_reminder": False,
    }
    reply = await api.post("/patient", body)
    assert reply.status == 201
    p = reply.json
    assert (p["time_zone"], p["email_marketing"], p["sms_marketing"]) == (
        "Pacific/Auckland",
        "Opt-In",
        "Opt-Out",
    )
    assert (p["sex"], p["pronouns"], p["fee_category"]) == ("Female", "He/Him", "Concession")
    assert p["default_practitioner"] == api.sim.dataset.tables["practitioners"][2]["short_description"]
    assert p["default_sms_reminder"] is False
    assert p["date_of_birth"] == "1990-02-03"
    filtered = await api.get(
        "/patient", params=[("q[]", "email_marketing_type:=2"), ("q[]", "surname:=Ngata")]
    )
    assert filtered.json["total_entries"] == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"first_name", "surname"}),
        ({"first_name": " ", "surname": "X"}, {"first_name"}),
        ({"first_name": "A" * 41, "surname": "B"}, {"first_name"}),
        ({"first_name": "A", "surname": "B", "timezone": "Mars/Olympus"}, {"timezone"}),
        ({"first_name": "A", "surname": "B", "email": "not-an-email"}, {"email"}),
        ({"first_name": "A", "surname": "B", "sms_marketing_type": 5}, {"sms_marketing_type"}),
        ({"first_name": "A", "surname": "B", "preferred_phone": 2}, {"preferred_phone"}),
        ({"first_name": "A", "surname": "B", "sex_id": 99, "pronoun_id": 99}, {"sex_id", "pronoun_id"}),
        ({"first_name": "A", "surname": "B", "date_of_birth": "2030-01-01"}, {"date_of_birth"}),
        ({"first_name": "A", "surname": "B", "postcode": "12345678901"}, {"postcode"}),
        ({"first_name": 7, "surname": "B"}, {"first_name"}),
    ],
)
async def test_create_validation(api: Api, body: dict[str, Any], fields: set[str]) -> None:
    """Each documented rule violation is a 422 INVALID_BODY naming exactly the offending fields."""
    reply = await api.post("/patient", body)
    assert reply.status == 422
    assert reply.json["error"]["code"] == "INVALID_BODY"
    assert _fields(reply) == fields


async def test_edit_is_partial(api: Api) -> None:
    """PATCH changes only the fields sent; clearing timezone with null is allowed; bad values are 422."""
    before = (await api.get("/patient/2")).json
    reply = await api.patch("/patient/2", {"mobile": "0499 999 999", "timezone": "Australia/Perth"})
    assert reply.status == 200
    after = reply.json
    assert after["mobile"] == "0499 999 999"
    assert after["time_zone"] == "Australia/Perth"
    assert after["surname"] == before["surname"]
    cleared = await api.patch("/patient/2", {"timezone": None})
    assert cleared.json["time_zone"] is None
    phone = await api.get("/patient", params=[("q[]", "phone:=0499 999 999")])
    assert [p["client_id"] for p in phone.json["clients"]] == [2]
    assert _fields(await api.patch("/patient/2", {"surname": ""})) == {"surname"}
    assert (await api.patch("/patient/999999", {"surname": "X"})).status == 404
