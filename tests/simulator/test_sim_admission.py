"""Admission: keys (403/401), unknown paths, the token bucket (429 + Retry-After), daily quota, control routes."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest

from tests.simulator.conftest import KEYS, Api, MakeApi, ManualClock, RecordingSleep

MIDNIGHT = datetime(2026, 1, 5, tzinfo=UTC).timestamp()


class TestKeys:
    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"x-api-key": "sim-vendor-key"},
            {"A-api-key": "sim-account-key"},
            {"x-api-key": "", "A-api-key": "x"},
        ],
    )
    async def test_missing_key_is_403(self, api: Api, headers: dict[str, str]) -> None:
        """Without both key headers the answer is 403 MISSING_AUTHENTICATION_TOKEN."""
        reply = await api.get("/business", headers=headers)
        assert reply.status == 403
        assert reply.json["error"]["code"] == "MISSING_AUTHENTICATION_TOKEN"

    async def test_unknown_key_is_401(self, api: Api) -> None:
        """A key the simulator does not know is 401 UNAUTHORIZED."""
        reply = await api.get("/business", headers={"x-api-key": "nope", "A-api-key": "sim-account-key"})
        assert reply.status == 401
        assert reply.json["error"]["code"] == "UNAUTHORIZED"
        reply = await api.get("/business", headers={"x-api-key": "sim-vendor-key", "A-api-key": "nope"})
        assert reply.status == 401

    async def test_header_names_are_case_insensitive(self, api: Api) -> None:
        """X-API-KEY and a-api-key work as well as the documented spelling."""
        reply = await api.get(
            "/business", headers={"X-API-KEY": "sim-vendor-key", "a-api-key": "sim-account-key"}
        )
        assert reply.status == 200

    async def test_accept_any_key(self, make_api: MakeApi) -> None:
        """accept_any_key admits any non-empty pair of keys."""
        api = await make_api(accept_any_key=True)
        assert (await api.get("/business", headers={"x-api-key": "a", "A-api-key": "b"})).status == 200
        assert (await api.get("/business", headers={"x-api-key": "a"})).status == 403

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/nothing"),
            ("DELETE", "/appointment/1"),
            ("PUT", "/patient/1"),
            ("GET", "/appointment/1/cancel"),
        ],
    )
    async def test_unknown_path_or_method_is_403(self, api: Api, method: str, path: str) -> None:
        """Unrouted paths and methods are 403 MISSING_AUTHENTICATION_TOKEN even with valid keys."""
        reply = await api.call(method, path, validate=False)
        assert reply.status == 403
        assert reply.json["error"]["code"] == "MISSING_AUTHENTICATION_TOKEN"
        assert api.sim.stats.by_operation["unknown"] == 1

    async def test_custom_keys_and_base_path(self, make_api: MakeApi) -> None:
        """Configured keys and base path replace the defaults."""
        api = await make_api(vendor_keys=("v1", "v2"), account_keys=("acc",), base_path="/api/v1")
        assert api.sim.base_url.endswith("/api/v1")
        assert (await api.get("/business", headers={"x-api-key": "v2", "A-api-key": "acc"})).status == 200
        assert (await api.get("/business")).status == 401


class TestRateLimit:
    async def test_bucket_starts_full_then_429(self, make_api: MakeApi, sim_clock: ManualClock) -> None:
        """burst requests pass at once; the next is a 429 with the envelope and Retry-After in seconds."""
        api = await make_api(rate=2.0, burst=3, clock=sim_clock)
        for _ in range(3):
            assert (await api.get("/sex")).status == 200
        reply = await api.get("/sex")
        assert reply.status == 429
        assert reply.json["error"]["status"] == 429
        assert reply.json["error"]["code"] == "TOO_MANY_REQUESTS"
        assert reply.headers["Retry-After"] == "1"
        assert "X-RateLimit-Limit" not in reply.headers
        sim_clock.advance(0.5)
        assert (await api.get("/sex")).status == 200
        stats = api.sim.stats
        assert (stats.accepted, stats.rejected_429, stats.total) == (4, 1, 5)

    async def test_retry_after_is_ceiling_of_deficit_over_rate(
        self, make_api: MakeApi, sim_clock: ManualClock
    ) -> None:
        """Retry-After = ceil(deficit / R): 1 token at 0.25/s is 4 s, then 3 s after one more second."""
        api = await make_api(rate=0.25, burst=1, clock=sim_clock)
        assert (await api.get("/sex")).status == 200
        assert (await api.get("/sex")).headers["Retry-After"] == "4"
        sim_clock.advance(1.0)
        assert (await api.get("/sex")).headers["Retry-After"] == "3"
        sim_clock.advance(3.0)
        assert (await api.get("/sex")).status == 200

    async def test_http_date_retry_after(self, make_api: MakeApi, sim_clock: ManualClock) -> None:
        """retry_after_format='http-date' sends an IMF-fixdate at now + the wait, rounded up."""
        api = await make_api(
            rate=0.5,
            burst=1,
            clock=sim_clock,
            retry_after_format="http-date",
            wall_clock=lambda: MIDNIGHT + 10.2,
        )
        await api.get("/sex")
        reply = await api.get("/sex")
        when = parsedate_to_datetime(reply.headers["Retry-After"])
        assert when == datetime(2026, 1, 5, 0, 0, 13, tzinfo=UTC)
        assert reply.headers["Retry-After"].endswith("GMT")

    async def test_keys_have_separate_buckets(self, make_api: MakeApi, sim_clock: ManualClock) -> None:
        """Each vendor key gets its own bucket."""
        api = await make_api(rate=1.0, burst=1, clock=sim_clock, vendor_keys=("a", "b"))
        for key in ("a", "b"):
            assert (
                await api.get("/sex", headers={"x-api-key": key, "A-api-key": "sim-account-key"})
            ).status == 200
        assert (
            await api.get("/sex", headers={"x-api-key": "a", "A-api-key": "sim-account-key"})
        ).status == 429

    async def test_rejected_auth_spends_no_tokens(self, make_api: MakeApi, sim_clock: ManualClock) -> None:
        """401/403 answers come before the bucket and do not consume it."""
        api = await make_api(rate=1.0, burst=1, clock=sim_clock)
        for _ in range(3):
            await api.get("/sex", headers={"x-api-key": "sim-vendor-key", "A-api-key": "bad"})
        assert (await api.get("/sex")).status == 200

    async def test_rate_limit_headers(self, make_api: MakeApi, sim_clock: ManualClock) -> None:
        """rate_limit_headers adds X-RateLimit-Limit/Remaining/Reset to admitted and rejected answers."""
        api = await make_api(rate=1.0, burst=2, clock=sim_clock, rate_limit_headers=True)
        first = await api.get("/sex")
        assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
        assert first.headers["X-RateLimit-Reset"] == "1"
        await api.get("/sex")
        third = await api.get("/sex")
        assert third.status == 429
        assert third.headers["X-RateLimit-Remaining"] == "0"

    async def test_reconfigure_mid_run(self, make_api: MakeApi, sim_clock: ManualClock) -> None:
        """reconfigure() changes rate and burst without a restart, keeping earned tokens."""
        api = await make_api(rate=1.0, burst=1, clock=sim_clock)
        await api.get("/sex")
        assert (await api.get("/sex")).status == 429
        api.sim.reconfigure(rate=10.0, burst=4)
        sim_clock.advance(0.2)
        assert [(await api.get("/sex")).status for _ in range(3)] == [200, 200, 429]
        assert api.sim.config.rate == 10.0
        with pytest.raises(ValueError, match="cannot change"):
            api.sim.reconfigure(seed=3)
        api.sim.reconfigure(rate=None)
        assert all([(await api.get("/sex")).status == 200 for _ in range(10)])


class TestDailyQuota:
    async def test_quota_blocks_until_midnight(self, make_api: MakeApi) -> None:
        """After daily_quota requests a key gets 429 until the next UTC midnight, then passes again."""
        wall = [MIDNIGHT + 23 * 3600]
        api = await make_api(daily_quota=2, wall_clock=lambda: wall[0])
        assert [(await api.get("/sex")).status for _ in range(2)] == [200, 200]
        blocked = await api.get("/sex")
        assert blocked.status == 429
        assert blocked.json["error"]["code"] == "QUOTA_EXCEEDED"
        assert blocked.headers["Retry-After"] == "3600"
        wall[0] += 3600
        assert (await api.get("/sex")).status == 200


class TestControlRoutes:
    async def test_stats_reset_and_config_routes(self, make_api: MakeApi, sim_clock: ManualClock) -> None:
        """/_stats, /_reset and /_config work without keys, bypass limits and are not counted."""
        api = await make_api(rate=1.0, burst=1, clock=sim_clock)
        await api.get("/sex")
        await api.get("/sex")
        async with api.session.get(api.sim.base_url.replace("/v1", "/_stats")) as resp:
            stats = await resp.json()
        assert (stats["accepted"], stats["rejected_429"], stats["total"]) == (1, 1, 2)
        assert stats["config"]["rate"] == 1.0
        assert stats["by_operation"] == {"listSexes": 2}
        root = api.sim.base_url.removesuffix("/v1")
        async with api.session.post(root + "/_config", json={"rate": 50, "burst": 10}) as resp:
            assert (await resp.json())["config"]["burst"] == 10
        async with api.session.post(root + "/_config", json={"rate": -1}) as resp:
            assert resp.status == 400
        async with api.session.post(root + "/_config", json={"records": 5}) as resp:
            assert resp.status == 400
        async with api.session.post(root + "/_reset") as resp:
            assert resp.status == 200
        assert api.sim.stats.total == 0
        assert [(await api.get("/sex")).status for _ in range(10)] == [200] * 10


async def test_latency_applies_after_admission(make_api: MakeApi, sim_clock: ManualClock) -> None:
    """Admitted requests sleep latency + seeded jitter; rejected ones do not sleep."""
    sleep = RecordingSleep()
    api = await make_api(latency=0.02, latency_jitter=0.01, sleep=sleep, rate=1.0, burst=3, clock=sim_clock)
    for _ in range(4):
        await api.get("/sex")
    assert len(sleep.calls) == 3
    assert all(0.02 <= s <= 0.03 for s in sleep.calls)
    assert len(set(sleep.calls)) == 3
    again = await make_api(latency=0.02, latency_jitter=0.01, sleep=(other := RecordingSleep()))
    for _ in range(3):
        await again.get("/sex")
    assert other.calls == sleep.calls


def test_keys_fixture_matches_defaults() -> None:
    """The default keys are the documented sim-vendor-key / sim-account-key."""
    from pracsuite_async.simulator import SimulatorConfig

    config = SimulatorConfig()
    assert (config.vendor_keys, config.account_keys) == ((KEYS["x-api-key"],), (KEYS["A-api-key"],))
