"""List semantics: pagination, links, q[] filters and sort_by, compared with an in-memory reference."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.simulator.conftest import Api, MakeApi


async def _all_ids(api: Api, path: str, key: str, params: list[tuple[str, str]]) -> list[int]:
    """Follow links.next from page 1 and collect the id field of every element."""
    ids: list[int] = []
    reply = await api.get(path, params=[*params, ("page_size", "100")])
    while True:
        assert reply.status == 200, reply
        ids.extend(e[key] for e in reply.json[next(iter(reply.json))])
        nxt = reply.json["links"].get("next")
        if nxt is None:
            return ids
        async with api.session.get(
            nxt, headers={"x-api-key": "sim-vendor-key", "A-api-key": "sim-account-key"}
        ) as r:
            from tests.simulator.conftest import Reply

            reply = Reply(r.status, dict(r.headers), await r.read())


def _appointments(api: Api) -> dict[int, dict[str, Any]]:
    return {i: r for i, r in api.sim.dataset.tables["diary"].items() if r["_kind"] == "appointment"}


class TestPagination:
    async def test_pages_cover_everything_once(self, api: Api) -> None:
        """Following links.next visits every appointment exactly once, in ascending id order."""
        ids = await _all_ids(api, "/appointment", "appointment_id", [])
        assert ids == sorted(_appointments(api))

    async def test_links_are_omitted_at_the_ends(self, api: Api) -> None:
        """previous is absent on page 1 and next is absent on the last page."""
        total = len(_appointments(api))
        first = await api.get("/appointment", params={"page_size": "100"})
        assert "previous" not in first.json["links"]
        assert "next" in first.json["links"]
        last_page = str(-(-total // 100))
        last = await api.get("/appointment", params={"page_size": "100", "page": last_page})
        assert "next" not in last.json["links"]
        assert last.json["links"]["previous"].endswith("page=" + str(int(last_page) - 1))
        assert last.json["total_entries"] == total

    async def test_row_numbers_and_self_link(self, api: Api) -> None:
        """row_num counts across pages, total_rows equals total_entries and self is the request URL."""
        reply = await api.get("/patient", params={"page": "2", "page_size": "7"})
        rows = reply.json["clients"]
        assert [r["row_num"] for r in rows] == list(range(8, 15))
        assert {r["total_rows"] for r in rows} == {reply.json["total_entries"]}
        assert reply.json["links"]["self"] == f"{api.sim.base_url}/patient?page=2&page_size=7"

    async def test_page_past_the_end_is_empty(self, api: Api) -> None:
        """A page beyond the last one is an empty list that still reports the total."""
        reply = await api.get("/business", params={"page": "9"})
        assert reply.json["businesses"] == []
        assert reply.json["total_entries"] == 3

    @pytest.mark.parametrize(
        "params",
        [{"page": "0"}, {"page_size": "0"}, {"page_size": "101"}, {"page": "x"}, {"page_size": "1.5"}],
    )
    async def test_bad_paging_is_400(self, api: Api, params: dict[str, str]) -> None:
        """page < 1, page_size outside 1..100 and non-integers are INVALID_PARAMS."""
        reply = await api.get("/appointment", params=params)
        assert reply.status == 400
        assert reply.json["error"]["code"] == "INVALID_PARAMS"


def _ref_match(value: Any, op: str, target: Any) -> bool:
    if value is None:
        return False
    return {
        "=": value == target,
        "!=": value != target,
        "<": value < target,
        "<=": value <= target,
        ">": value > target,
        ">=": value >= target,
    }[op]


class TestFilters:
    @pytest.mark.parametrize(
        ("conditions", "reference"),
        [
            (["business_id:=1"], lambda r: r["business_id"] == 1),
            (["practitioner_id:!=2"], lambda r: r["practitioner_id"] != 2),
            (
                ["app_time:>=2026-01-05T00:00:00", "app_time:<2026-01-20T00:00:00"],
                lambda r: "2026-01-05T00:00:00" <= r["app_time"] < "2026-01-20T00:00:00",
            ),
            (["created:<2025-06-01T00:00:00Z"], lambda r: r["created"] < "2025-06-01T00:00:00.000000Z"),
            (
                ["updated:>=2025-12-01T10:00:00+10:00"],
                lambda r: r["modified"] >= "2025-12-01T00:00:00.000000Z",
            ),
            (
                ["client_id:<=5", "appointment_type_id:!=2"],
                lambda r: r["client_id"] <= 5 and r["appointment_type_id"] != 2,
            ),
            (["profession_id:>2"], lambda r: r["profession_id"] > 2),
        ],
    )
    async def test_appointment_filters(self, api: Api, conditions: list[str], reference: Any) -> None:
        """Appointment filters select exactly what a direct evaluation of the rule selects."""
        ids = await _all_ids(api, "/appointment", "appointment_id", [("q[]", c) for c in conditions])
        expected = [i for i, r in _appointments(api).items() if reference(r)]
        assert ids == expected
        assert ids, "the reference should not be empty"

    async def test_datetime_equality(self, api: Api) -> None:
        """app_time:= selects the appointments starting at exactly that local time (and != the rest)."""
        rows = _appointments(api)
        when = rows[7]["app_time"]
        same = await _all_ids(api, "/appointment", "appointment_id", [("q[]", f"app_time:={when}")])
        other = await _all_ids(api, "/appointment", "appointment_id", [("q[]", f"app_time:!={when}")])
        assert same == [i for i, r in rows.items() if r["app_time"] == when]
        assert 7 in same
        assert sorted(same + other) == sorted(rows)

    async def test_patient_filters(self, api: Api) -> None:
        """String (exact and case-insensitive ~), date, status, phone and marketing filters match the reference."""
        patients = api.sim.dataset.tables["patients"]
        someone = patients[3]
        cases: list[tuple[list[str], Any]] = [
            (
                [f"first_name:~{someone['first_name'][:3].upper()}"],
                lambda r: someone["first_name"][:3].lower() in r["first_name"].lower(),
            ),
            ([f"surname:={someone['surname']}"], lambda r: r["surname"] == someone["surname"]),
            (["date_of_birth:>=1990-01-01"], lambda r: r["date_of_birth"] >= "1990-01-01"),
            (["status:=1"], lambda r: not r["archive"]),
            (["status:=6"], lambda r: r["deceased"]),
            (["status:=5"], lambda r: not r["deceased"]),
            (
                [f"phone:~{someone['mobile'][:6]}"],
                lambda r: someone["mobile"][:6] in r["mobile"] + r["home_phone"],
            ),
            (["email_marketing_type:=2"], lambda r: r["email_marketing"] == "Opt-In"),
            (["archived:>2000-01-01T00:00:00Z"], lambda r: r["archive"]),
            (["email:!=nobody@example.com", "mobile:~04"], lambda r: "04" in r["mobile"]),
        ]
        for conditions, reference in cases:
            ids = await _all_ids(api, "/patient", "client_id", [("q[]", c) for c in conditions])
            assert ids == [i for i, r in patients.items() if reference(r)], conditions

    async def test_other_types(self, api: Api) -> None:
        """Boolean, double, integer-list and date filters on items, groups, invoices and payments."""
        t = api.sim.dataset.tables
        groups = await _all_ids(api, "/item_group", "item_group_id", [("q[]", "archived:=true")])
        assert groups == [i for i, r in t["item_groups"].items() if r["archived"]]
        inv = t["invoices"][1]
        base = f"/patient/{inv['client_id']}/account/{inv['account_id']}"
        owing = await _all_ids(api, f"{base}/invoice", "invoice_id", [("q[]", "owing:>=0.5")])
        assert owing == [
            i for i, r in t["invoices"].items() if r["account_id"] == inv["account_id"] and r["_owing"] >= 0.5
        ]
        paid = await _all_ids(
            api,
            f"{base}/invoice",
            "invoice_id",
            [("q[]", f"appointment_id:={inv['invoice_items'][0]['appointment_id']}")],
        )
        assert paid == [1]
        pays = await _all_ids(
            api, f"{base}/payment", "payment_id", [("q[]", f"payment_date:={inv['invoice_date']}")]
        )
        assert pays == [
            i
            for i, r in t["payments"].items()
            if r["account_id"] == inv["account_id"] and r["payment_time"][:10] == inv["invoice_date"]
        ]
        items = await _all_ids(
            api, "/item", "item_id", [("q[]", "item_code:~phy"), ("q[]", "description:!=x")]
        )
        assert items == [i for i, r in t["items"].items() if "phy" in r["item_code"].lower()]

    @pytest.mark.parametrize(
        "condition",
        [
            "nosuchfield:=1",  # unknown field
            "created:=2025-01-01T00:00:00Z",  # timestamps have no equality
            "first_name:>a",  # strings only = != ~
            "client_id:~1",  # integers have no ~
            "client_id:=abc",  # not an integer
            "app_time:>=2025-01-01",  # datetime needs a time
            "created:<yesterday",  # not a timestamp
            "business_id",  # no operator
            "business_id:1",  # no operator after the colon
        ],
    )
    async def test_invalid_filters_are_400(self, api: Api, condition: str) -> None:
        """Unknown fields, operators not allowed for the type and malformed values are INVALID_PARAMS."""
        reply = await api.get("/appointment", params=[("q[]", condition)])
        assert reply.status == 400, reply

    async def test_patient_status_needs_known_value(self, api: Api) -> None:
        """status accepts only = and the documented codes 1..6."""
        assert (await api.get("/patient", params=[("q[]", "status:=7")])).status == 400
        assert (await api.get("/patient", params=[("q[]", "status:!=1")])).status == 400

    async def test_filter_on_operation_without_filters_is_400(self, api: Api) -> None:
        """Operations that document no q[] reject one."""
        assert (await api.get("/pronoun", params=[("q[]", "description:=x")])).status == 400


class TestSorting:
    async def test_comma_and_json_styles_agree(self, api: Api) -> None:
        """sort_by=a,b and sort_by=["a","b"] give the same order, and it matches the reference."""
        patients = api.sim.dataset.tables["patients"]
        comma = await _all_ids(api, "/patient", "client_id", [("sort_by", "surname,first_name")])
        js = await _all_ids(
            api, "/patient", "client_id", [("sort_by", json.dumps(["surname", "first_name"]))]
        )
        assert (
            comma
            == js
            == sorted(patients, key=lambda i: (patients[i]["surname"], patients[i]["first_name"], i))
        )

    async def test_leading_minus_sorts_descending(self, api: Api) -> None:
        """-field sorts that key descending while ties stay in ascending id order."""
        rows = _appointments(api)
        ids = await _all_ids(
            api, "/appointment", "appointment_id", [("sort_by", "-app_time,practitioner_id")]
        )
        expected = sorted(rows, key=lambda i: (rows[i]["practitioner_id"], i))
        expected.sort(key=lambda i: rows[i]["app_time"], reverse=True)
        assert ids == expected

    async def test_filter_alias_sorts_by_its_field(self, api: Api) -> None:
        """A filter name such as updated is sortable and orders by the field it stands for."""
        rows = _appointments(api)
        ids = await _all_ids(api, "/appointment", "appointment_id", [("sort_by", "updated")])
        assert ids == sorted(rows, key=lambda i: (rows[i]["modified"], i))

    async def test_unknown_sort_field_is_400(self, api: Api) -> None:
        """Sorting by a field the element does not have is INVALID_PARAMS."""
        assert (await api.get("/appointment", params={"sort_by": "colour"})).status == 400
        assert (await api.get("/appointment", params={"sort_by": '["app_time",'})).status == 400

    async def test_repeated_queries_reuse_the_cached_order(self, make_api: MakeApi) -> None:
        """An identical list query is answered from the cached id list, not recomputed."""
        api = await make_api(records=3000)
        store = api.sim.app[__import__("pracsuite_async.simulator._state", fromlist=["STATE"]).STATE].store
        for page in ("1", "2", "3"):
            await api.get("/appointment", params=[("sort_by", "-app_time"), ("page", page)])
        assert len(store._cache) == 1


class TestScopedLists:
    async def test_scope_filters_by_parent(self, api: Api) -> None:
        """Scoped lists hold exactly the parent's children."""
        rows = _appointments(api)
        for path, field, value in [
            ("/practitioner/2/appointment", "practitioner_id", 2),
            ("/business/3/appointment", "business_id", 3),
            ("/patient/4/appointment", "client_id", 4),
            ("/appointment_type/2/appointment", "appointment_type_id", 2),
        ]:
            ids = await _all_ids(api, path, "appointment_id", [])
            assert ids == [i for i, r in rows.items() if r[field] == value], path
        by_resource = await _all_ids(api, "/resource/1/appointment", "appointment_id", [])
        assert by_resource == [i for i, r in rows.items() if 1 in r["resource_ids"]]

    @pytest.mark.parametrize(
        "path",
        [
            "/patient/999999/appointment",
            "/business/99/appointment",
            "/patient/999999/account",
            "/patient/1/account/999999/invoice",
            "/practitioner/99/profession",
            "/note/1/resource",
        ],
    )
    async def test_missing_parent_is_404(self, api: Api, path: str) -> None:
        """A scoped list whose parent does not exist (or is another kind) is NOT_FOUND."""
        reply = await api.get(path, validate=False)
        assert reply.status == 404
        assert reply.json["error"]["code"] == "NOT_FOUND"

    async def test_account_must_belong_to_patient(self, api: Api) -> None:
        """An account path under the wrong patient is NOT_FOUND."""
        inv = api.sim.dataset.tables["invoices"][1]
        other = next(c for c in api.sim.dataset.tables["patients"] if c != inv["client_id"])
        reply = await api.get(f"/patient/{other}/account/{inv['account_id']}")
        assert reply.status == 404

    async def test_get_by_id_404_envelope(self, api: Api) -> None:
        """A missing record is a 404 with the error envelope and a request_id."""
        reply = await api.get("/appointment/99999999")
        assert reply.status == 404
        assert reply.json["error"] == {
            "status": 404,
            "code": "NOT_FOUND",
            "detail": "Could not find appointment with ID 99999999",
        }
        assert len(reply.json["request_id"]) == 36
        assert (await api.get("/appointment/abc")).status == 400
