"""The simulator's options for disagreeing with the client: order, sort wire, page, record shape."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pracsuite_async.simulator import SimulatorConfig
from pracsuite_async.simulator.__main__ import build_parser, config_from_args
from pracsuite_async.simulator._disagree import UNKNOWN_FIELD, reorder
from tests.simulator.conftest import MakeApi

PAGE = {"page_size": "100"}


async def _ids(api: Any, **params: str) -> list[int]:
    reply = await api.get("/appointment", params={**PAGE, **params}, validate=False)
    assert reply.status == 200, reply
    return [r["appointment_id"] for r in reply.json["appointments"]]


class TestOrder:
    async def test_descending_and_shuffled(self, make_api: MakeApi) -> None:
        """Without sort_by, records come in the configured order: ascending, reversed or a stable shuffle."""
        plain = await _ids(await make_api(records=80))
        down = await _ids(await make_api(records=80, order="descending"))
        shuffled = await make_api(records=80, order="shuffled")
        mixed = await _ids(shuffled)
        assert plain == sorted(plain)
        assert down == plain[::-1]
        assert mixed not in (plain, down)
        assert sorted(mixed) == plain
        assert await _ids(shuffled) == mixed  # stable across requests

    def test_shuffle_rank_does_not_depend_on_the_other_ids(self) -> None:
        """A record keeps its relative place when others are filtered out, as a real index order would."""
        everything = reorder(list(range(1, 200)), "shuffled", 3)
        evens = reorder(list(range(2, 200, 2)), "shuffled", 3)
        assert [i for i in everything if i % 2 == 0] == evens

    async def test_sort_still_applies_to_a_shuffled_default(self, make_api: MakeApi) -> None:
        """A requested sort orders the records even when the default order is shuffled."""
        api = await make_api(records=80, order="shuffled")
        assert await _ids(api, sort_by='["appointment_id"]') == sorted(await _ids(api))

    async def test_ignore_sort(self, make_api: MakeApi) -> None:
        """ignore_sort answers in the default order whatever sort_by says, even an unknown field."""
        api = await make_api(records=80, order="descending", ignore_sort=True)
        assert await _ids(api, sort_by='["appointment_id"]') == await _ids(api)
        assert await _ids(api, sort_by='["no_such_field"]') == await _ids(api)


class TestSortWire:
    @pytest.mark.parametrize("value", ["appointment_id,app_time", "appointment_id"])
    async def test_json_only_rejects_the_comma_form(self, make_api: MakeApi, value: str) -> None:
        """sort_wire='json' answers 400 INVALID_PARAMS to a comma-separated sort_by."""
        api = await make_api(records=40, sort_wire="json")
        reply = await api.get("/appointment", params={"sort_by": value})
        assert reply.status == 400
        assert reply.json["error"]["code"] == "INVALID_PARAMS"

    async def test_json_only_accepts_the_json_array(self, make_api: MakeApi) -> None:
        """The URL-encoded JSON array of the founding document is accepted and sorts."""
        api = await make_api(records=40, sort_wire="json", order="descending")
        assert await _ids(api, sort_by='["appointment_id"]') == sorted(await _ids(api))

    async def test_default_accepts_both(self, make_api: MakeApi) -> None:
        """By default both wire forms sort the same way."""
        api = await make_api(records=40, order="descending")
        assert await _ids(api, sort_by="appointment_id") == await _ids(api, sort_by='["appointment_id"]')


class TestPageIgnored:
    async def test_every_page_is_the_first(self, make_api: MakeApi) -> None:
        """ignore_page serves page 1 for page 2 while total_entries and links.next still say there is more."""
        api = await make_api(records=80, ignore_page=True)
        first = await api.get("/appointment", params={"page_size": "10"}, validate=False)
        second = await api.get("/appointment", params={"page_size": "10", "page": "2"}, validate=False)
        ids = [[r["appointment_id"] for r in reply.json["appointments"]] for reply in (first, second)]
        assert ids[0] == ids[1]
        assert second.json["total_entries"] > 20
        assert "next" in second.json["links"]


class TestRecordShape:
    async def test_app_time_with_z(self, make_api: MakeApi) -> None:
        """app_time_z sends tenant-local app_time with a trailing Z in lists and single gets."""
        api = await make_api(records=40, app_time_z=True)
        listed = (await api.get("/appointment", validate=False)).json["appointments"]
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", r["app_time"]) for r in listed)
        one = await api.get(f"/appointment/{listed[0]['appointment_id']}", validate=False)
        assert one.json["app_time"].endswith("Z")

    async def test_optional_fields_absent(self, make_api: MakeApi) -> None:
        """omit_optional drops null and some other fields but keeps ids and links."""
        plain = (await (await make_api(records=40)).get("/appointment", validate=False)).json["appointments"]
        api = await make_api(records=40, omit_optional=True)
        thin = (await api.get("/appointment", validate=False)).json["appointments"]
        assert [r["appointment_id"] for r in thin] == [r["appointment_id"] for r in plain]
        assert all("links" in r and "client_id" in r for r in thin)
        assert all(None not in r.values() for r in thin)
        assert sum(len(r) for r in thin) < sum(len(r) for r in plain)

    async def test_unknown_fields(self, make_api: MakeApi) -> None:
        """unknown_fields adds a nested field no spec version has to every record."""
        api = await make_api(records=40, unknown_fields=True)
        rows = (await api.get("/patient", validate=False)).json["clients"]
        assert all(r[UNKNOWN_FIELD] == {"nested": {"flag": True, "level": 2}} for r in rows)


class TestCommandLine:
    def test_flags_reach_the_config(self) -> None:
        """Each disagreement flag of python -m pracsuite_async.simulator sets its config field."""
        args = build_parser().parse_args(
            [
                *("--order", "shuffled", "--sort-wire", "json"),
                *("--ignore-sort", "--ignore-page", "--app-time-z", "--omit-optional", "--unknown-fields"),
            ]
        )
        config = config_from_args(args)
        assert (config.order, config.sort_wire) == ("shuffled", "json")
        flags = (config.ignore_sort, config.ignore_page, config.app_time_z, config.omit_optional)
        assert flags == (True, True, True, True)
        assert config.unknown_fields

    def test_defaults_agree(self) -> None:
        """Without flags the simulator disagrees about nothing."""
        config = config_from_args(build_parser().parse_args([]))
        assert config == SimulatorConfig(
            today=config.today, vendor_keys=config.vendor_keys, account_keys=config.account_keys
        )

    def test_bad_order_is_refused(self) -> None:
        """An unknown order is a ValueError from the config."""
        with pytest.raises(ValueError, match="order"):
            SimulatorConfig(order="random")  # type: ignore[arg-type]
