"""The learned rate limit remembered between runs: file location, privacy, opt-outs, second-run speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pracsuite_async import AdaptiveRateLimiter, ConfigurationError, PracSuiteClient
from pracsuite_async._limit_memory import LimitMemory, limits_file
from pracsuite_async._rate_headers import RateFeedback
from pracsuite_async._redact import Secret
from pracsuite_async.testing import FakeClock, FakeTransport
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY
from tests.limiter_sim import BucketServer, run_walk

BASE = "https://api.example.test/v1"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Remembering switched on, with the cache directory in a tmp dir (never the real home)."""
    monkeypatch.delenv("PRACSUITE_REMEMBER_LIMIT", raising=False)
    monkeypatch.delenv("PRACSUITE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "pracsuite_async" / "limits.json"


def _never(request: object) -> object:
    raise AssertionError  # these tests send nothing


def _client(**kwargs: object) -> PracSuiteClient:
    return PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, base_url=BASE, transport=FakeTransport(_never),
                           clock=FakeClock(), **kwargs)  # type: ignore[arg-type]


def _learn(client: PracSuiteClient, limit: float) -> None:
    """Make the client's estimator settle, as a per-second limit header does."""
    client.limiter.feedback(RateFeedback(throttled=False, limit=limit))


class TestRememberedLimit:
    async def test_a_second_client_starts_at_the_learned_limit(self, cache: Path) -> None:
        """A limit learned by one client is written on close and read by the next client for that key."""
        async with _client() as first:
            assert first.limiter.rate == 10.0  # nothing remembered: the seed
            _learn(first, 37.0)
        assert cache.exists()
        second = _client()
        assert second.limiter.rate == pytest.approx(37.0)
        await second.aclose()

    async def test_the_file_never_holds_the_key(self, cache: Path) -> None:
        """The file is keyed by a hash: neither key nor base URL appears in it."""
        async with _client() as client:
            _learn(client, 25.0)
        text = cache.read_text()
        assert VENDOR_KEY not in text
        assert ACCOUNT_KEY not in text
        assert "example" not in text
        assert list(json.loads(text).values()) == [{"rate": 25.0, "burst": 2.0}]

    async def test_another_vendor_key_starts_from_the_seed(self, cache: Path) -> None:
        """A limit is remembered per (base URL, vendor key), not for every budget."""
        async with _client() as client:
            _learn(client, 25.0)
        other = PracSuiteClient("vendor-OTHER", ACCOUNT_KEY, base_url=BASE, transport=FakeTransport(_never),
                                clock=FakeClock())
        assert other.limiter.rate == 10.0
        await other.aclose()

    async def test_written_as_soon_as_the_limit_settles(self, cache: Path) -> None:
        """The limit is written when the estimator settles, so a killed process still leaves it."""
        client = _client()
        _learn(client, 30.0)
        assert json.loads(cache.read_text())
        await client.aclose()

    @pytest.mark.parametrize("how", ["setting", "env"])
    async def test_opt_out(self, cache: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
        """remember_limit=False or PRACSUITE_REMEMBER_LIMIT=0 neither reads nor writes the file."""
        async with _client() as client:
            _learn(client, 40.0)
        kwargs: dict[str, object] = {}
        if how == "env":
            monkeypatch.setenv("PRACSUITE_REMEMBER_LIMIT", "0")
        else:
            kwargs["remember_limit"] = False
        cache.unlink()
        async with _client(**kwargs) as client:
            _learn(client, 40.0)
            assert client.limiter.rate == 40.0
        assert not cache.exists()

    async def test_a_configured_rate_ignores_the_memory(self, cache: Path) -> None:
        """With rate_limit=R the remembered limit is neither read nor written."""
        async with _client() as client:
            _learn(client, 40.0)
        async with _client(rate_limit=5.0) as client:
            assert client.limiter.rate == 5.0

    @pytest.mark.parametrize(
        "content", ["{not json", "[]", '{"K": {"rate": "fast", "burst": 2}}', '{"K": {"rate": 1e300, "burst": 2}}',
                    '{"K": {"rate": -3, "burst": 2}}', '{"K": {"rate": 20, "burst": 0}}', '{"K": 7}'],
    )
    async def test_a_corrupt_file_means_nothing_remembered(self, cache: Path, content: str) -> None:
        """Garbage or out-of-range values in the file start the client at the seed and are overwritten."""
        key = LimitMemory(cache, BASE, Secret(VENDOR_KEY)).key
        cache.parent.mkdir(parents=True)
        cache.write_text(content.replace('"K"', json.dumps(key)))
        async with _client() as client:
            assert client.limiter.rate == 10.0
            _learn(client, 22.0)
        assert json.loads(cache.read_text())[key]["rate"] == 22.0

    async def test_an_unwritable_directory_is_not_an_error(self, tmp_path: Path, cache: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
        """When the cache directory cannot be created, the client works on and remembers nothing."""
        blocker = tmp_path / "file"
        blocker.write_text("")
        monkeypatch.setenv("PRACSUITE_CACHE_DIR", str(blocker / "sub"))
        assert limits_file() == blocker / "sub" / "limits.json"
        async with _client() as client:
            _learn(client, 22.0)

    def test_the_setting_is_checked(self) -> None:
        """A non-boolean remember_limit is refused, naming the setting."""
        with pytest.raises(ConfigurationError, match="remember_limit"):
            _client(remember_limit="yes")


async def test_second_run_export_reaches_the_limit(cache: Path) -> None:
    """With the limit learned by a first run remembered, an 80-page export reaches >= 0.97 R with no 429."""
    rate, burst = 20.0, 5.0
    memory = LimitMemory(cache, BASE, Secret(VENDOR_KEY))
    clock = FakeClock()
    first = AdaptiveRateLimiter(clock=clock)
    memory.attach(first)
    await run_walk(first, BucketServer(clock, rate=rate, burst=burst), clock, requests=400)
    memory.flush(first)
    assert memory.recall() is not None, "the first run settled on no estimate"

    clock = FakeClock()
    second = AdaptiveRateLimiter(clock=clock)
    LimitMemory(cache, BASE, Secret(VENDOR_KEY)).attach(second)
    server = BucketServer(clock, rate=rate, burst=burst)
    await run_walk(second, server, clock, requests=80)
    assert server.rejected == 0
    assert server.achieved_rate() >= 0.97 * rate, server.achieved_rate()
    assert server.achieved_rate() <= rate + burst / 4  # within the server's own bound


async def test_a_lowered_limit_still_shows_itself(cache: Path) -> None:
    """A remembered limit above the server's new one costs a 429, after which the client paces under it."""
    LimitMemory(cache, BASE, Secret(VENDOR_KEY)).save(30.0, 2.0)
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock=clock)
    LimitMemory(cache, BASE, Secret(VENDOR_KEY)).attach(limiter)
    assert limiter.rate == 30.0
    server = BucketServer(clock, rate=15.0, burst=5.0)
    await run_walk(limiter, server, clock, requests=300)
    assert server.rejected >= 1
    assert limiter.rate < 16.0
