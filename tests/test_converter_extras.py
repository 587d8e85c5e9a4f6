"""Unknown keys land in ``extra`` in the record's order, whichever fast path read the record."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pracsuite_async._converter import _structure_slow, structure, structure_list, unstructure
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


OPTIONAL = tuple(k for k in FULL if k not in ("appointment_id", "client_id"))
_record_shapes = st.tuples(
    st.frozensets(st.sampled_from(OPTIONAL)),  # known keys left out
    st.dictionaries(st.sampled_from(["custom", "zz", "extra_1", "width"]), st.integers(), max_size=3),
    st.integers(0, len(FULL)),  # where the unknown keys go
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_record_shapes, min_size=1, max_size=8))
def test_pages_of_varying_shapes_decode_as_one_record_at_a_time(shapes: list[Any]) -> None:
    """A page mixing shapes (keys absent in some records, present in others, unknowns anywhere) decodes
    each record exactly as the per-field slow path does, whatever earlier records taught the fast path."""
    records = [_with(unknown, at=at, drop=tuple(drop)) for drop, unknown, at in shapes]
    fast = structure_list(records, Appointment)
    slow = [_structure_slow(Appointment, record) for record in records]
    assert fast == slow
    assert [list(m.extra.items()) for m in fast] == [
        [(k, v) for k, v in record.items() if k not in FULL] for record in records
    ]
