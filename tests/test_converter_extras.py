"""Unknown keys land in ``extra`` in the record's order, whichever fast path read the record."""

from __future__ import annotations

from typing import Any

import pytest

from pracsuite_async._converter import structure, structure_list, unstructure
from pracsuite_async.models import Appointment

FULL: dict[str, Any] = {
    "links": {"self": "https://x/appointment/1", "resources": "https://x/appointment/1/resource"},
    "tenant_id": 1, "appointment_id": 1, "client_id": 2, "app_time": "2025-01-01T09:00:00",
    "description": "d", "appointment_type_id": 3, "appointment_status_id": 4, "category": "c",
    "duration": 30, "notes": "", "practitioner_id": 5, "business_id": 6, "profession_id": 7,
    "item_id": None, "account_id": 8, "created": "2025-01-01T00:00:00Z", "modified": "2025-01-02T00:00:00Z",
    "item_group_id": None, "telehealth_patient_link": None, "telehealth_practitioner_link": None,
    "resource_ids": [1], "row_num": 1, "total_rows": 1,
}


def _with(unknown: dict[str, Any], *, at: int, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    items = [(k, v) for k, v in FULL.items() if k not in drop]
    return dict(items[:at] + list(unknown.items()) + items[at:])


CASES = [
    pytest.param({"custom": {"a": [1]}}, len(FULL), (), id="one unknown last, all known"),
    pytest.param({"custom": 1}, 3, (), id="one unknown in the middle, all known"),
    pytest.param({"z": 1, "a": 2}, len(FULL), (), id="two unknown last, all known"),
    pytest.param({"z": 1, "a": 2}, 5, (), id="two unknown in the middle, all known"),
    pytest.param({"custom": {"a": [1]}}, 30, ("item_id", "notes"), id="one unknown last, some absent"),
    pytest.param({"z": 1, "a": 2}, 2, ("item_id",), id="two unknown in the middle, one absent"),
    pytest.param({"z": 1, "a": 2, "m": 3}, 30, ("item_id", "links"), id="three unknown last, absent"),
]


@pytest.mark.parametrize(("unknown", "at", "drop"), CASES)
def test_unknown_keys_kept_in_order(unknown: dict[str, Any], at: int, drop: tuple[str, ...]) -> None:
    """``extra`` holds exactly the unknown keys, in the record's order, and the known fields decode."""
    record = _with(unknown, at=at, drop=drop)
    for model in (structure(record, Appointment), structure_list([record, FULL], Appointment)[0]):
        assert list(model.extra.items()) == list(unknown.items())
        assert model.appointment_id == 1
        assert model.item_id is None
        assert unstructure(model)["custom" if "custom" in unknown else "z"] == next(iter(unknown.values()))


def test_known_keys_only_give_an_empty_extra() -> None:
    """A spec-exact record, and one with optional fields absent, have no extras."""
    short = {k: v for k, v in FULL.items() if k != "notes"}
    assert [m.extra for m in structure_list([FULL, short], Appointment)] == [{}, {}]
