"""Dataset generation (determinism, shape, formats, speed), configuration and the command line."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from datetime import date

import aiohttp
import attrs
import pytest

from pracsuite_async.simulator import SimulatorConfig, create_app, generate_dataset, serve
from pracsuite_async.simulator.__main__ import build_parser, config_from_args

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


class TestGeneration:
    def test_deterministic(self) -> None:
        """The same seed and size give identical data; another seed gives different data."""
        a, b = generate_dataset(5, 500), generate_dataset(5, 500)
        assert a.tables == b.tables
        assert generate_dataset(6, 500).tables["diary"] != a.tables["diary"]

    def test_counts_scale_with_records(self) -> None:
        """Entity counts follow records: patients ~ records/10, three businesses, ten practitioners or more."""
        ds = generate_dataset(0, 2000)
        counts = ds.counts()
        appointments = sum(1 for r in ds.tables["diary"].values() if r["_kind"] == "appointment")
        assert appointments == 2000
        assert counts["patients"] == 200
        assert counts["businesses"] == 3
        assert counts["practitioners"] == 10
        assert counts["invoices"] > 0
        assert counts["payments"] > 0
        kinds = {r["_kind"] for r in ds.tables["diary"].values()}
        assert kinds == {"appointment", "note", "rule_out", "group"}
        assert counts["cancelled"] == 100
        assert counts["group_members"] > 0
        assert generate_dataset(0, 50_000).counts()["practitioners"] == 20

    def test_time_formats_and_spread(self) -> None:
        """created/modified are UTC with microseconds and Z; app_time is local; data spans months around today."""
        ds = generate_dataset(0, 2000)
        diary = ds.tables["diary"].values()
        assert all(TIMESTAMP.match(r["created"]) and TIMESTAMP.match(r["modified"]) for r in diary)
        assert all(LOCAL.match(r["app_time"]) for r in diary)
        assert all(r["created"] <= r["modified"] for r in diary)
        months = {r["app_time"][:7] for r in diary}
        assert len(months) >= 10
        assert "2026-01" in months
        assert "2025-06" in months
        assert {r.get("appointment_status_id") for r in diary if r["app_time"] < "2026-01-05"} >= {3, 4, 5}
        patient = ds.tables["patients"][1]
        assert TIMESTAMP.match(patient["file_created"])
        assert patient["date_of_birth"] < "2021"

    def test_nulls_only_where_allowed(self) -> None:
        """Generated records carry nulls in the nullable fields the spec names (and nowhere public else)."""
        ds = generate_dataset(0, 500)
        assert any(v is None for v in ds.tables["businesses"][3].values())
        assert {p["accepted_privacy_policy"] for p in ds.tables["patients"].values()} == {None, True, False}
        assert None in {p["time_zone"] for p in ds.tables["patients"].values()}
        nullable = {"accepted_privacy_policy", "time_zone"}
        for table in ("diary", "patients", "invoices", "payments", "items", "practitioners"):
            for rec in ds.tables[table].values():
                assert not [k for k, v in rec.items() if v is None and k[0] != "_" and k not in nullable], (
                    table
                )

    def test_today_moves_the_data(self) -> None:
        """The dataset is built around the given today."""
        ds = generate_dataset(0, 300, today=date(2030, 6, 3))
        assert max(r["app_time"] for r in ds.tables["diary"].values()) > "2030-06-03"

    def test_100k_generation_time(self) -> None:
        """100,000 appointments generate in a few seconds (measured and printed, not asserted tightly)."""
        started, cpu = time.perf_counter(), time.process_time()
        ds = generate_dataset(0, 100_000)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        total = sum(ds.counts().values())
        print(f"\n100k appointments: {elapsed:.2f} s wall, {cpu:.2f} s CPU for {total} records")
        assert elapsed < 30


class TestConfig:
    def test_validation(self) -> None:
        """Impossible settings are refused when the config is built."""
        for bad in (
            {"rate": 0},
            {"burst": 0},
            {"faults": "bogus:1"},
            {"base_path": "v1"},
            {"records": 0},
            {"retry_after_format": "minutes"},
            {"daily_quota": -1},
        ):
            with pytest.raises(ValueError):  # noqa: PT011  attrs and our validators word it differently
                SimulatorConfig(**bad)

    def test_evolve_and_schedule(self) -> None:
        """Configs are frozen values; fault_schedule parses the faults string."""
        config = SimulatorConfig(faults="500:0.1")
        assert attrs.evolve(config, rate=3.0).rate == 3.0
        assert config.fault_schedule == (("500", 0.1),)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            config.rate = 1.0  # type: ignore[misc]

    def test_command_line(self) -> None:
        """python -m pracsuite_async.simulator flags map onto SimulatorConfig."""
        args = build_parser().parse_args(
            [
                "--port",
                "0",
                "--records",
                "100000",
                "--rate",
                "10",
                "--burst",
                "7",
                "--faults",
                "500:0.1",
                "--retry-after-format",
                "http-date",
                "--vendor-key",
                "k1",
                "--today",
                "2026-02-02",
            ]
        )
        config = config_from_args(args)
        assert (config.records, config.rate, config.burst, config.faults) == (100_000, 10.0, 7, "500:0.1")
        assert config.vendor_keys == ("k1",)
        assert config.today == date(2026, 2, 2)
        assert config.retry_after_format == "http-date"
        assert args.port == 0

    def test_create_app_routes_every_operation(self) -> None:
        """create_app registers the 80 operations plus the control and storage routes."""
        app = create_app(SimulatorConfig(records=50))
        assert (
            len([r for r in app.router.routes() if r.resource and r.resource.canonical.startswith("/v1")])
            == 80
        )


async def test_serve_prints_base_url_and_stops_on_cancel(capsys: pytest.CaptureFixture[str]) -> None:
    """serve() prints the base URL, answers requests, and shuts down when cancelled."""
    task = asyncio.create_task(serve(SimulatorConfig(records=50), port=0))
    for _ in range(200):
        await asyncio.sleep(0.01)
        out = capsys.readouterr().out
        if out:
            break
    url = out.strip()
    assert re.match(r"^http://127\.0\.0\.1:\d+/v1$", url)
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            url + "/sex", headers={"x-api-key": "sim-vendor-key", "A-api-key": "sim-account-key"}
        ) as resp,
    ):
        assert resp.status == 200
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
