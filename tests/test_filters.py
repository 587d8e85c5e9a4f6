"""q[] filters and sort_by: typed building, raw strings, validation before sending."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest

from pracsuite_async import OPERATIONS
from pracsuite_async._endpoints import FilterField, FilterKind
from pracsuite_async._errors import RequestTypeError, RequestValidationError
from pracsuite_async._filters import (
    KIND_OPERATORS,
    OPERATORS,
    F,
    FieldRef,
    Filter,
    RawFilter,
    encode_filters,
    encode_sort,
)
from pracsuite_async._wire import build_request, page_request

SECRET = "Zebedee-SENTINEL"

ALLOWED: dict[str, FilterField] = {
    "date_of_birth": FilterField("date_of_birth", "date", KIND_OPERATORS["date"]),
    "created": FilterField("created", "timestamp", KIND_OPERATORS["timestamp"]),
    "app_time": FilterField("app_time", "datetime", KIND_OPERATORS["datetime"]),
    "business_id": FilterField("business_id", "integer", KIND_OPERATORS["integer"]),
    "first_name": FilterField("first_name", "string", KIND_OPERATORS["string"]),
    "archived": FilterField("archived", "boolean", KIND_OPERATORS["boolean"]),
    # The spec lists no operators for double; the kind's defaults apply.
    "owing": FilterField("owing", "double", ()),
    # A row may allow fewer operators than its kind, and only listed values (patient `status`).
    "status": FilterField("status", "integer", ("=",), values=(1, 2, 3, 4, 5, 6)),
}

FIELD_OF_KIND: dict[FilterKind, str] = {
    "date": "date_of_birth",
    "timestamp": "created",
    "datetime": "app_time",
    "integer": "business_id",
    "string": "first_name",
    "boolean": "archived",
    "double": "owing",
}

VALID_VALUE: dict[FilterKind, object] = {
    "date": date(2000, 1, 1),
    "timestamp": datetime(2024, 6, 1, tzinfo=UTC),
    "datetime": datetime(2025, 1, 3, 10, 15),
    "integer": 123,
    "string": "jo",
    "boolean": False,
    "double": 12.5,
}

README_OPERATORS: dict[FilterKind, set[str]] = {
    "date": {"=", "!=", "<", "<=", ">", ">="},
    "timestamp": {"<", "<=", ">", ">="},
    "datetime": {"=", "!=", "<", "<=", ">", ">="},
    "integer": {"=", "!=", "<", "<=", ">", ">="},
    "string": {"=", "!=", "~"},
    "boolean": {"=", "!="},
    "double": {"=", "!=", "<", "<=", ">", ">="},
}


def encode_one(item: Filter | str) -> str:
    """Encode one filter against ALLOWED and return its q[] value."""
    [(name, value)] = encode_filters([item], ALLOWED)
    assert name == "q[]"
    return value


class TestFieldRef:
    def test_operators_build_filters(self) -> None:
        """Each comparison operator returns the Filter with the matching wire operator."""
        ref = F("business_id")
        built = [ref == 5, ref != 5, ref < 5, ref <= 5, ref > 5, ref >= 5]
        assert built == [Filter("business_id", op, 5) for op in ("=", "!=", "<", "<=", ">", ">=")]

    def test_named_methods_match_operators(self) -> None:
        """The named methods build the same filters as the operators."""
        ref = F("first_name")
        named = [ref.eq("a"), ref.ne("a"), ref.lt("a"), ref.le("a"), ref.gt("a"), ref.ge("a")]
        assert named == [ref == "a", ref != "a", ref < "a", ref <= "a", ref > "a", ref >= "a"]
        assert ref.contains("jo") == Filter("first_name", "~", "jo")

    def test_equality_with_false_builds_a_filter(self) -> None:
        """``F(...) == False`` is a filter on False, not a comparison."""
        assert (F("archived") == False) == Filter("archived", "=", False)  # noqa: E712

    def test_field_ref_is_unhashable(self) -> None:
        """A FieldRef cannot be a dict key, because == does not compare."""
        with pytest.raises(TypeError):
            hash(F("x"))
        assert FieldRef.__hash__ is None

    def test_reprs_hide_values(self) -> None:
        """Filter reprs show field and operator but never the value, which may be patient data."""
        text = repr(F("first_name").contains(SECRET))
        assert SECRET not in text
        assert "first_name" in text
        assert repr(F("app_time")) == "F('app_time')"


class TestFormatting:
    @pytest.mark.parametrize(
        ("item", "wire"),
        [
            (F("date_of_birth") >= date(2000, 1, 1), "date_of_birth:>=2000-01-01"),
            (F("date_of_birth") < date(999, 2, 3), "date_of_birth:<0999-02-03"),
            (F("app_time") == datetime(2025, 1, 3, 10, 15), "app_time:=2025-01-03T10:15:00"),
            (F("app_time") >= datetime(2025, 1, 1, 9, 0, 0, 999_999), "app_time:>=2025-01-01T09:00:00"),
            (F("created") < datetime(2024, 6, 1, tzinfo=UTC), "created:<2024-06-01T00:00:00Z"),
            (
                F("created") > datetime(2020, 9, 12, 13, 9, 42, 687393, tzinfo=timezone(timedelta(hours=2))),
                "created:>2020-09-12T11:09:42.687393Z",
            ),
            (F("business_id") == 5, "business_id:=5"),
            (F("business_id") != -10, "business_id:!=-10"),
            (F("first_name").contains("jo"), "first_name:~jo"),
            (F("first_name") == "a:b =c", "first_name:=a:b =c"),
            (F("archived") == False, "archived:=false"),  # noqa: E712
            (F("archived") != True, "archived:!=true"),  # noqa: E712
            (F("owing") > 12.5, "owing:>12.5"),
            (F("owing") >= 30, "owing:>=30"),
            (F("owing") <= 1e20, "owing:<=100000000000000000000"),
            (F("owing") < Decimal("0.10"), "owing:<0.10"),
        ],
    )
    def test_wire_form(self, item: Filter, wire: str) -> None:
        """Each kind's Python value is written in the API's format."""
        assert encode_one(item) == wire

    def test_readme_combined_example(self) -> None:
        """The README's combined appointment example encodes to its q[] list, in order."""
        filters: list[Filter | str] = [
            F("business_id") == 5,
            "business_id:!=10",
            F("app_time") >= datetime(2025, 1, 1, 9),
            F("app_time") <= datetime(2025, 1, 1, 18),
        ]
        assert encode_filters(filters, ALLOWED) == [
            ("q[]", "business_id:=5"),
            ("q[]", "business_id:!=10"),
            ("q[]", "app_time:>=2025-01-01T09:00:00"),
            ("q[]", "app_time:<=2025-01-01T18:00:00"),
        ]

    def test_empty_filters(self) -> None:
        """No filters encode to no parameters."""
        assert encode_filters([], ALLOWED) == []


class TestOperators:
    @pytest.mark.parametrize("kind", list(FIELD_OF_KIND))
    @pytest.mark.parametrize("op", OPERATORS)
    def test_operator_table(self, kind: FilterKind, op: str) -> None:
        """Each kind accepts exactly the README's operators and rejects the others by field and rule."""
        field = FIELD_OF_KIND[kind]
        value = "jo" if op == "~" and kind == "string" else VALID_VALUE[kind]
        item = Filter(field, op, value)
        if op in README_OPERATORS[kind]:
            assert encode_one(item).startswith(f"{field}:{op}")
        else:
            with pytest.raises(RequestValidationError) as info:
                encode_one(item)
            assert info.value.field == field
            assert f"{op!r} is not allowed for a {kind} field" in info.value.rule

    def test_row_operators_override_kind(self) -> None:
        """A row listing fewer operators than its kind is enforced as listed."""
        assert encode_one(F("status") == 1) == "status:=1"
        with pytest.raises(RequestValidationError, match=r"allowed: =$"):
            encode_one(F("status") != 1)

    @pytest.mark.parametrize("item", [F("status") == 7, F("status") == 0, "status:=7"])
    def test_row_values_enforced(self, item: Filter | str) -> None:
        """A row listing its values (patient status 1..6) rejects any other value."""
        with pytest.raises(RequestValidationError, match="one of 1, 2, 3, 4, 5, 6") as info:
            encode_one(item)
        assert info.value.field == "status"
        assert encode_one("status:=6") == "status:=6"

    def test_unknown_operator_is_not_echoed(self) -> None:
        """A made-up operator is rejected without repeating it."""
        with pytest.raises(RequestValidationError) as info:
            encode_one(Filter("business_id", SECRET, 1))
        assert SECRET not in str(info.value)
        assert info.value.field == "business_id"


class TestValidation:
    @pytest.mark.parametrize(
        "item",
        [
            F("date_of_birth") == datetime(2000, 1, 1),
            F("date_of_birth") == "2000-01-01",
            F("app_time") >= date(2025, 1, 1),
            F("app_time") >= "2025-01-01T09:00:00",
            F("created") < date(2024, 1, 1),
            F("business_id") == True,  # noqa: E712
            F("business_id") == "5",
            F("business_id") == 5.0,
            F("business_id") == None,  # noqa: E711
            F("first_name") == 5,
            F("archived") == 0,
            F("archived") == "false",
            F("owing") > True,
            F("owing") > "1.5",
        ],
    )
    def test_wrong_python_type(self, item: Filter) -> None:
        """A value of the wrong Python type raises RequestTypeError naming the field."""
        with pytest.raises(RequestTypeError) as info:
            encode_one(item)
        assert isinstance(info.value, TypeError)
        assert isinstance(info.value, RequestValidationError)
        assert info.value.field == item.field

    def test_aware_datetime_for_tenant_local_field(self) -> None:
        """An aware datetime for app_time is rejected: the field is in the clinic's local time."""
        with pytest.raises(RequestValidationError, match="naive") as info:
            encode_one(F("app_time") >= datetime(2025, 1, 1, 9, tzinfo=UTC))
        assert not isinstance(info.value, TypeError)
        assert info.value.field == "app_time"

    def test_naive_datetime_for_timestamp(self) -> None:
        """A naive datetime for a UTC timestamp is rejected rather than guessed."""
        with pytest.raises(RequestValidationError, match="aware") as info:
            encode_one(F("created") < datetime(2024, 6, 1))
        assert info.value.field == "created"

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity")])
    def test_non_finite_number(self, value: object) -> None:
        """NaN and infinities are not numbers the API can compare with."""
        with pytest.raises(RequestValidationError, match="finite"):
            encode_one(F("owing") > value)

    def test_unknown_field_lists_allowed(self) -> None:
        """An unknown field names itself and lists the fields the operation allows."""
        with pytest.raises(RequestValidationError) as info:
            encode_one(F("surname") == "x")
        assert info.value.field == "surname"
        assert "allowed: app_time, archived, business_id" in info.value.rule

    def test_operation_without_filters(self) -> None:
        """An operation with no filterable fields says so."""
        with pytest.raises(RequestValidationError, match="allowed: none"):
            encode_filters([F("x") == 1], {})

    def test_field_that_is_not_a_name(self) -> None:
        """A field that is not a name is rejected without repeating it."""
        with pytest.raises(RequestValidationError) as info:
            encode_one(F(SECRET + " x") == 1)
        assert info.value.field == "q[]"
        assert SECRET not in str(info.value)

    @pytest.mark.parametrize("filters", ["business_id:=5", Filter("business_id", "=", 5)])
    def test_single_filter_instead_of_list(self, filters: object) -> None:
        """A lone filter or string is refused instead of being iterated character by character."""
        with pytest.raises(RequestTypeError, match="list of filters"):
            encode_filters(filters, ALLOWED)  # type: ignore[arg-type]

    @pytest.mark.parametrize("item", [F("business_id"), ("business_id", "=", 5), 5])
    def test_element_that_is_not_a_filter(self, item: object) -> None:
        """A FieldRef without a comparison, a tuple or a number is a type error."""
        with pytest.raises(RequestTypeError) as info:
            encode_filters([item], ALLOWED)  # type: ignore[list-item]
        assert info.value.field == "q[]"

    @pytest.mark.parametrize(
        "item",
        [
            F("first_name") < SECRET,
            F("business_id") == SECRET,
            F("app_time") == SECRET,
            F("created") == datetime(2024, 1, 1, tzinfo=UTC),
            f"first_name:<{SECRET}",
            f"business_id:={SECRET}",
            f"date_of_birth:={SECRET}",
            f"{SECRET}",
            f"business_id{SECRET}",
            f"surname:={SECRET}",
        ],
    )
    def test_errors_never_contain_the_value(self, item: Filter | str) -> None:
        """Every rejection names field and rule and leaves the value out of str, repr and args."""
        with pytest.raises(RequestValidationError) as info:
            encode_one(item)
        for text in (str(info.value), repr(info.value), repr(info.value.args)):
            assert SECRET not in text
            assert "2024-01-01" not in text


class TestRawStrings:
    @pytest.mark.parametrize(
        ("raw", "wire"),
        [
            ("business_id:=5", "business_id:=5"),
            ("business_id:!=10", "business_id:!=10"),
            ("business_id:<5", "business_id:<5"),
            ("business_id:<=5", "business_id:<=5"),
            ("business_id:>5", "business_id:>5"),
            ("business_id:>=5", "business_id:>=5"),
            ("business_id:=+07", "business_id:=7"),
            ("first_name:~jo", "first_name:~jo"),
            ("first_name:==x", "first_name:==x"),
            ("first_name:=a:b", "first_name:=a:b"),
            ("first_name:=", "first_name:="),
            ("date_of_birth:>=2000-01-01", "date_of_birth:>=2000-01-01"),
            ("app_time:=2025-01-03T10:15:00", "app_time:=2025-01-03T10:15:00"),
            ("app_time:=2025-01-03t10:15:00", "app_time:=2025-01-03T10:15:00"),
            ("created:<2024-06-01T00:00:00Z", "created:<2024-06-01T00:00:00Z"),
            ("created:<2020-09-12T11:09:42.687393z", "created:<2020-09-12T11:09:42.687393Z"),
            ("created:<2020-09-12T11:09:42.5Z", "created:<2020-09-12T11:09:42.500000Z"),
            ("archived:=false", "archived:=false"),
            ("archived:!=TRUE", "archived:!=true"),
            ("owing:>=-12.50", "owing:>=-12.50"),
        ],
    )
    def test_parsed_and_reencoded(self, raw: str, wire: str) -> None:
        """Raw filters are split with the longest operator first and re-encoded for their kind."""
        assert encode_one(raw) == wire

    @pytest.mark.parametrize(
        ("raw", "field"),
        [
            ("business_id:=5.0", "business_id"),
            ("business_id:=true", "business_id"),
            ("date_of_birth:=2000-1-1", "date_of_birth"),
            ("date_of_birth:=2000-02-30", "date_of_birth"),
            ("date_of_birth:=2000-01-01T00:00:00", "date_of_birth"),
            ("app_time:=2025-01-03T10:15:00Z", "app_time"),
            ("app_time:=2025-01-03", "app_time"),
            ("app_time:=2025-01-03T25:00:00", "app_time"),
            ("created:<2024-06-01T00:00:00", "created"),
            ("created:<2024-06-01T00:00:00+00:00", "created"),
            ("created:<2024-06-01T00:00:00.1234567Z", "created"),
            ("archived:=yes", "archived"),
            ("owing:>1e5", "owing"),
            ("owing:>.5", "owing"),
        ],
    )
    def test_value_text_checked_for_kind(self, raw: str, field: str) -> None:
        """Raw value text must parse for the field's kind; the error names the field."""
        with pytest.raises(RequestValidationError) as info:
            encode_one(raw)
        assert not isinstance(info.value, TypeError)
        assert info.value.field == field
        assert "the value must be" in info.value.rule

    def test_raw_operator_checked(self) -> None:
        """A raw filter's operator is checked against the field like a typed one."""
        with pytest.raises(RequestValidationError, match="'=' is not allowed for a timestamp field"):
            encode_one("created:=2024-06-01T00:00:00Z")

    @pytest.mark.parametrize("raw", ["business_id=5", ":=5", "9x:=5", ""])
    def test_malformed(self, raw: str) -> None:
        """A string without a leading 'field:' is rejected under the q[] parameter."""
        with pytest.raises(RequestValidationError, match="field:OPvalue") as info:
            encode_one(raw)
        assert info.value.field == "q[]"

    def test_missing_operator(self) -> None:
        """A field followed by no operator names the field and lists the operators."""
        with pytest.raises(RequestValidationError, match="needs an operator") as info:
            encode_one("business_id:5")
        assert info.value.field == "business_id"


class TestSort:
    def test_wire_form_is_a_json_array(self) -> None:
        """sort_by goes out as a compact JSON array (x-pracsuite-wire: json-array), not comma-separated."""
        assert encode_sort(["appointment_id", "app_time"], {"app_time", "appointment_id"}, None) == (
            '["appointment_id","app_time"]'
        )

    def test_appends_tie_breaker(self) -> None:
        """The id field is appended so equal sort keys keep a stable order across pages."""
        assert encode_sort(["app_time"], {"app_time", "appointment_id"}, "appointment_id") == (
            '["app_time","appointment_id"]'
        )

    @pytest.mark.parametrize(
        ("sort_by", "wire"),
        [
            (["appointment_id", "app_time"], '["appointment_id","app_time"]'),
            (["-appointment_id"], '["-appointment_id"]'),
            (["-app_time", "created"], '["-app_time","created","appointment_id"]'),
        ],
    )
    def test_tie_breaker_not_duplicated(self, sort_by: list[str], wire: str) -> None:
        """An id already present (in either direction) is not appended again; order is kept."""
        allowed = {"app_time", "appointment_id", "created"}
        assert encode_sort(sort_by, allowed, "appointment_id") == wire

    def test_tie_breaker_only_when_sortable(self) -> None:
        """An id field the operation cannot sort on is not appended (the server would reject it)."""
        assert encode_sort(["name"], ["name"], "id") == '["name"]'

    def test_without_id_field(self) -> None:
        """Without an id field nothing is appended."""
        assert encode_sort(["name"], ["name", "id"], None) == '["name"]'

    @pytest.mark.parametrize("sort_by", [[], ()])
    def test_empty_sends_nothing(self, sort_by: list[str]) -> None:
        """No sort fields means no sort_by parameter, not just the tie-breaker."""
        assert encode_sort(sort_by, {"id"}, "id") is None

    @pytest.mark.parametrize("bad", ["surname", "-surname", "-", "--app_time", ""])
    def test_unknown_field(self, bad: str) -> None:
        """Unknown names, and direction prefixes other than one '-', are rejected under sort_by."""
        with pytest.raises(RequestValidationError) as info:
            encode_sort(["app_time", bad], {"app_time", "id"}, "id")
        assert info.value.field == "sort_by"
        assert "allowed: app_time, id" in info.value.rule

    def test_unsortable_operation(self) -> None:
        """An operation with no sortable fields says so."""
        with pytest.raises(RequestValidationError, match="allowed: none"):
            encode_sort(["id"], (), None)

    def test_repeated_field(self) -> None:
        """A field listed twice, in any direction, is rejected."""
        with pytest.raises(RequestValidationError, match="more than once"):
            encode_sort(["app_time", "-app_time"], {"app_time"}, None)

    def test_single_string(self) -> None:
        """A bare string is refused rather than read as a list of one-letter fields."""
        with pytest.raises(RequestTypeError) as info:
            encode_sort("app_time", {"app_time"}, None)
        assert info.value.field == "sort_by"

    def test_non_string_entry(self) -> None:
        """Entries must be strings."""
        with pytest.raises(RequestTypeError, match="field name"):
            encode_sort([1], {"1"}, None)  # type: ignore[list-item]


class TestRawFilter:
    def test_sent_as_written_for_a_field_the_table_lacks(self) -> None:
        """A RawFilter passes a field outside the table through as one q[] value, unvalidated."""
        assert encode_filters([RawFilter("arrival_time:>=2025-01-01T09:00:00")], ALLOWED) == [
            ("q[]", "arrival_time:>=2025-01-01T09:00:00")
        ]

    def test_mixes_with_typed_filters(self) -> None:
        """Raw and typed filters keep their order and are all ANDed as repeated q[]."""
        encoded = encode_filters([F("business_id") == 5, RawFilter("room_id:!=3"), "archived:=false"], ALLOWED)
        assert encoded == [("q[]", "business_id:=5"), ("q[]", "room_id:!=3"), ("q[]", "archived:=false")]

    @pytest.mark.parametrize(
        "bad", ["arrival_time", "arrival_time:", "arrival time:=1", ":=1", "x:^1", "9x:=1", "x:=a\nb", "x:=\x00"]
    )
    def test_shape_is_checked(self, bad: str) -> None:
        """Anything but 'field:OPvalue' is refused at construction, without echoing the text."""
        with pytest.raises(RequestValidationError) as info:
            RawFilter(bad)
        assert bad not in str(info.value)

    def test_not_a_string(self) -> None:
        """A non-string expression is a RequestTypeError."""
        with pytest.raises(RequestTypeError):
            RawFilter(5)  # type: ignore[arg-type]

    def test_value_hidden_from_repr(self) -> None:
        """The expression may hold patient data, so repr hides it."""
        assert SECRET not in repr(RawFilter(f"last_name:={SECRET}"))

    def test_a_single_raw_filter_is_not_a_list(self) -> None:
        """Passing one RawFilter instead of a list is refused, like a single Filter."""
        with pytest.raises(RequestTypeError):
            encode_filters(RawFilter("x:=1"), ALLOWED)  # type: ignore[arg-type]


def _takes_optional_query_only(operation_id: str) -> bool:
    query = OPERATIONS[operation_id].query
    return query is None or all(f.default is not attrs.NOTHING for f in attrs.fields(query))


@pytest.mark.parametrize(
    "operation_id",
    sorted(op for op, ep in OPERATIONS.items() if ep.paginated and _takes_optional_query_only(op)),
)
def test_page_request_is_build_request_for_that_page(operation_id: str) -> None:
    """A walk validates its arguments once and only renumbers the pages: the request is the same as
    one built from scratch for that page (query, filters, sort, order of parameters)."""
    endpoint = OPERATIONS[operation_id]
    args: dict[str, object] = {}
    if endpoint.filters:
        field = sorted(endpoint.filters)[0]
        args["filters"] = [RawFilter(f"{field}:=1")]
    if endpoint.sortable and endpoint.id_field:
        args["sort_by"] = [endpoint.id_field]
    for name in endpoint.path_params:
        args[name] = 3
    first = build_request(endpoint, args, page=1, page_size=40, defer_page=True)
    assert page_request(first, 7, 25) == build_request(endpoint, args, page=7, page_size=25, defer_page=True)
