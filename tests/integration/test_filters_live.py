"""``q[]`` filters and ``sort_by`` against the simulator, checked against an in-memory reference.

Each case walks the list twice through the client: once unfiltered (the reference, filtered and sorted
here in Python) and once with the filters/sort sent to the server. Filter values are picked from the data
so that every case keeps some records and drops others.
"""

from __future__ import annotations

import operator
import statistics
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import attrs
import pytest

from pracsuite_async import OPERATIONS, F, Filter, PracSuiteClient
from pracsuite_async.simulator import Simulator
from tests.integration.conftest import MakeClient, MakeSim

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "~": lambda value, text: text.lower() in value.lower(),
}


@attrs.frozen
class Case:
    """One filter case: a list method, and filters built from the unfiltered records."""

    method: str  # e.g. "appointments.list"
    filters: Callable[[list[Any]], list[Filter]]
    # The model attribute a filter field reads, where the names differ (updated -> modified).
    attribute: dict[str, str] = attrs.field(factory=dict)


def _median(items: Sequence[Any], name: str) -> Any:
    values = sorted(v for item in items if (v := getattr(item, name)) is not None)
    return values[len(values) // 2]


def _first(items: Sequence[Any], name: str) -> Any:
    return next(v for item in items if (v := getattr(item, name)) is not None)


def _fragment(items: Sequence[Any], name: str) -> str:
    # Two letters from the middle of a value, upper-cased: ``~`` is a case-insensitive substring match.
    word = statistics.median_low(v for item in items if (v := getattr(item, name)))
    middle = len(word) // 2
    return word[middle - 1 : middle + 1].upper()


CASES: dict[str, Case] = {
    "integer-eq": Case(
        "appointments.list", lambda rows: [F("practitioner_id") == _first(rows, "practitioner_id")]
    ),
    "integer-ne": Case(
        "appointments.list", lambda rows: [F("practitioner_id") != _first(rows, "practitioner_id")]
    ),
    "integer-le-gt": Case(
        "appointment_book.list",
        lambda rows: [F("appointment_id") > _median(rows, "appointment_id") // 2, F("business_id") <= 2],
    ),
    "integer-ge-lt": Case(
        "appointments.list",
        lambda rows: [F("client_id") >= _median(rows, "client_id"), F("appointment_type_id") < 8],
    ),
    "datetime-range": Case(
        "appointments.list",
        lambda rows: [
            F("app_time") >= _median(rows, "app_time"),
            F("app_time") < max(r.app_time for r in rows),
        ],
    ),
    "datetime-eq": Case("appointment_book.list", lambda rows: [F("app_time") == _median(rows, "app_time")]),
    "datetime-ne": Case("notes.list", lambda rows: [F("app_time") != _first(rows, "app_time")]),
    "timestamp-created": Case("appointments.list", lambda rows: [F("created") < _median(rows, "created")]),
    "timestamp-updated": Case(
        "appointments.list",
        lambda rows: [F("updated") >= _median(rows, "modified")],
        attribute={"updated": "modified"},
    ),
    "timestamp-file-created": Case(
        "patients.list", lambda rows: [F("file_created") > _median(rows, "file_created")]
    ),
    "date": Case("patients.list", lambda rows: [F("date_of_birth") <= _median(rows, "date_of_birth")]),
    "string-contains": Case(
        "patients.list", lambda rows: [F("first_name").contains(_fragment(rows, "first_name"))]
    ),
    "string-eq": Case("patients.list", lambda rows: [F("surname") == _median(rows, "surname")]),
    "string-ne": Case("items.list", lambda rows: [F("description") != _first(rows, "description")]),
    "boolean-eq": Case("item_groups.list", lambda _: [F("archived") == False]),  # noqa: E712 - builds a filter
    "boolean-ne": Case("patient_contacts.list", lambda _: [F("archive") != True]),  # noqa: E712 - builds a filter
    "raw-string-filter": Case(
        "appointments.list", lambda rows: [f"business_id:={_first(rows, 'business_id')}"]
    ),  # type: ignore[list-item]
}


def _method(client: PracSuiteClient, dotted: str) -> Callable[..., Any]:
    namespace, name = dotted.split(".")
    return getattr(getattr(client, namespace), name)  # type: ignore[no-any-return]


def _as_filter(item: Filter | str) -> Filter:
    if isinstance(item, Filter):
        return item
    name, _, rest = item.partition(":")
    op = next(op for op in ("!=", "<=", ">=", "=", "<", ">", "~") if rest.startswith(op))
    return Filter(name, op, int(rest[len(op) :]))


def _matches(item: Any, filters: Sequence[Filter], attribute: dict[str, str]) -> bool:
    for f in filters:
        value = getattr(item, attribute.get(f.field, f.field))
        if value is None or not OPS[f.op](value, f.value):  # null never matches (simulator docs)
            return False
    return True


#: The id attribute of each list's records (the endpoint table's ``id_field``).
ID_FIELDS = {f"{e.namespace}.{e.method_name}": e.id_field for e in OPERATIONS.values()}


def _ids(dotted: str, items: Sequence[Any]) -> list[int]:
    name = ID_FIELDS[dotted]
    assert name is not None
    return [getattr(item, name) for item in items]


@pytest.fixture
async def filter_sim(make_sim: MakeSim) -> Simulator:
    """A clinic of about a thousand diary entries: several pages per list."""
    return await make_sim(records=1000)


@pytest.mark.parametrize("case_id", sorted(CASES))
async def test_filter_matches_reference(case_id: str, filter_sim: Simulator, make_client: MakeClient) -> None:
    """The server-filtered walk returns exactly the reference records, in id order."""
    case = CASES[case_id]
    client = make_client(filter_sim)
    method = _method(client, case.method)
    everything = await method(page_size=100).collect()
    filters = case.filters(everything)
    expected = _ids(
        case.method, [r for r in everything if _matches(r, [_as_filter(f) for f in filters], case.attribute)]
    )
    assert 0 < len(expected) < len(everything), "the case must keep some records and drop others"
    got = await method(filters=filters, page_size=20).collect()
    assert _ids(case.method, got) == expected


SORTS: dict[str, tuple[str, list[str], Callable[[Any], Any]]] = {
    "one-field": ("appointments.list", ["app_time"], lambda r: (r.app_time, r.appointment_id)),
    "descending": ("appointments.list", ["-business_id"], lambda r: (-r.business_id, r.appointment_id)),
    "two-fields": (
        "appointments.list",
        ["business_id", "app_time"],
        lambda r: (r.business_id, r.app_time, r.appointment_id),
    ),
    "timestamp": ("appointment_book.list", ["created"], lambda r: (r.created, r.appointment_id)),
}


@pytest.mark.parametrize("sort_id", sorted(SORTS))
async def test_sort_matches_reference(sort_id: str, filter_sim: Simulator, make_client: MakeClient) -> None:
    """A ``sort_by`` walk over many small pages returns every record once, in the reference order."""
    dotted, sort_by, key = SORTS[sort_id]
    client = make_client(filter_sim)
    method = _method(client, dotted)
    everything = await method().collect()
    expected = _ids(dotted, sorted(everything, key=key))
    assert expected != _ids(dotted, everything), "the sort must differ from the default id order"
    got = await method(sort_by=sort_by, page_size=25).collect()
    assert _ids(dotted, got) == expected


async def test_filter_and_sort_combined(filter_sim: Simulator, make_client: MakeClient) -> None:
    """Filters and a descending sort together give the filtered reference in descending time order."""
    client = make_client(filter_sim)
    everything = await client.appointments.list().collect()
    practitioner = _first(everything, "practitioner_id")
    start = datetime.fromisoformat("2025-10-01T00:00:00")
    expected = sorted(
        (r for r in everything if r.practitioner_id == practitioner and r.app_time >= start),
        key=lambda r: (-r.app_time.timestamp(), r.appointment_id),
    )
    assert 1 < len(expected) < len(everything)
    got = await client.appointments.list(
        filters=[F("practitioner_id") == practitioner, F("app_time") >= start],
        sort_by=["-app_time"],
        page_size=10,
    ).collect()
    assert [r.appointment_id for r in got] == [r.appointment_id for r in expected]


async def test_scoped_list_with_filter(filter_sim: Simulator, make_client: MakeClient) -> None:
    """A scoped list (a practitioner's appointments) with a filter equals the reference subset."""
    client = make_client(filter_sim)
    everything = await client.appointments.list().collect()
    businesses: dict[int, set[int]] = {}
    for r in everything:
        businesses.setdefault(r.practitioner_id, set()).add(r.business_id)
    practitioner = next(p for p, places in sorted(businesses.items()) if len(places) > 1)
    business = min(businesses[practitioner])
    expected = [
        r.appointment_id
        for r in everything
        if r.practitioner_id == practitioner and r.business_id != business
    ]
    assert expected
    got = await client.practitioners.appointments(
        practitioner, filters=[F("business_id") != business]
    ).collect()
    assert [r.appointment_id for r in got] == expected
