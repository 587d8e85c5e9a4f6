"""The Pager's dedupe key: a plain getter where decoding already guarantees an integer id."""

from __future__ import annotations

import operator

import attrs
import pytest

from pracsuite_async import OPERATIONS
from pracsuite_async._converter import StructureError, decodes_int, structure
from pracsuite_async.models import Appointment
from pracsuite_async.resources._base import _id_key


def test_every_list_operation_gets_a_plain_getter_or_no_key() -> None:
    """Each paginated operation with an id field dedupes with attrgetter, since its id field is required."""
    for name, endpoint in OPERATIONS.items():
        if not endpoint.paginated:
            continue
        key = _id_key(endpoint)
        if endpoint.id_field is None:
            assert key is None, name
        else:
            assert isinstance(key, operator.attrgetter), name


@pytest.mark.parametrize("value", [None, "7", True, 7.0, [7]])
def test_plain_getter_is_safe_because_decoding_refuses_a_bad_id(value: object) -> None:
    """A null, string, bool, float or list id never reaches the key: the record does not decode."""
    record = {"appointment_id": 7, "app_time": "2025-01-01T09:00:00"}
    assert structure(record, Appointment).appointment_id == 7
    with pytest.raises(StructureError, match="appointment_id"):
        structure({**record, "appointment_id": value}, Appointment)


def test_optional_id_field_keeps_the_checking_key() -> None:
    """An optional integer field is not trusted: non-integers map to None (never dropped)."""
    endpoint = attrs.evolve(OPERATIONS["listAppointments"], id_field="item_id")
    assert not decodes_int(Appointment, "item_id")
    assert decodes_int(Appointment, "appointment_id")
    assert not decodes_int(dict, "appointment_id")
    key = _id_key(endpoint)
    assert key is not None
    assert not isinstance(key, operator.attrgetter)
    assert key(Appointment(appointment_id=1, item_id=5)) == 5
    assert key(Appointment(appointment_id=1, item_id=None)) is None
