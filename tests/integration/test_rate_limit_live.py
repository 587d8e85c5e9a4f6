"""Rate limiting for real: a client above the server's limit gets 429s and honours ``Retry-After``; a client
configured at the server's rate gets none. These run on the real clock (the simulator's token bucket and
the client's limiter both read ``time.monotonic``), so they are kept to a few dozen requests.
"""

from __future__ import annotations

import time

import attrs
import pytest

from pracsuite_async import Event, RateLimited, RateLimitError, RequestSent, RetryScheduled
from tests.integration.conftest import MakeClient, MakeSim

#: Slack for loopback delivery: a request the client sent just before a 429 arrived may still land.
IN_FLIGHT = 0.05


@attrs.define
class Timeline:
    """Client events stamped with ``time.monotonic()`` (the simulator's default clock)."""

    events: list[tuple[float, Event]] = attrs.field(factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append((time.monotonic(), event))

    def of(self, kind: type[Event]) -> list[tuple[float, Event]]:
        return [(at, e) for at, e in self.events if isinstance(e, kind)]


@pytest.mark.slow
async def test_throttled_client_pauses_for_retry_after(make_sim: MakeSim, make_client: MakeClient) -> None:
    """A client paced at twice the server's rate gets 429s, pauses every sender for ``Retry-After``, and
    still returns every record exactly once."""
    sim = await make_sim(records=300, rate=20, burst=2)
    timeline = Timeline()
    client = make_client(sim, rate_limit=40, event_hooks=[timeline])
    pager = client.appointments.list(page_size=30)
    ids = [a.appointment_id async for a in pager]
    assert ids == sorted(set(ids))
    assert len(ids) == pager.total_entries

    assert sim.stats.rejected_429 > 0
    assert client.stats.throttled == sim.stats.rejected_429
    (first_at, first), *_ = timeline.of(RateLimited)
    assert isinstance(first, RateLimited)
    assert first.retry_after is not None
    assert first.retry_after >= 1  # the simulator rounds its wait up to whole seconds
    resume_at = first_at + first.retry_after
    # Client side: nothing was sent during the pause ...
    sent = [at for at, _ in timeline.of(RequestSent)]
    assert [at for at in sent if first_at < at < resume_at - 0.01] == []
    # ... and server side: nothing was admitted during it, beyond requests already on the wire.
    admitted = list(sim.stats.accepted_times)
    assert [at for at in admitted if first_at + IN_FLIGHT < at < resume_at - 0.01] == []
    assert any(at >= resume_at - 0.01 for at in admitted), "the walk resumed after the pause"


async def test_client_at_the_server_rate_sees_no_429(make_sim: MakeSim, make_client: MakeClient) -> None:
    """A client configured at the server's rate finishes a short concurrent walk without a single 429."""
    sim = await make_sim(records=300, rate=25)
    client = make_client(sim, rate_limit=25)
    everything = await client.appointments.list(page_size=15).collect()
    assert len(everything) == 300
    assert sim.stats.by_operation["listAppointments"] == 20
    assert sim.stats.rejected_429 == 0
    assert client.stats.throttled == 0
    assert sim.stats.achieved_rate() <= 25 * 1.1


async def test_adaptive_client_recovers_from_429(make_sim: MakeSim, make_client: MakeClient) -> None:
    """With no configured rate the client discovers the limit: it may be throttled, but loses nothing."""
    sim = await make_sim(records=300, rate=15, burst=2)
    client = make_client(sim, rate_limit=None)
    everything = await client.appointment_book.list(page_size=25).collect()
    ids = [e.appointment_id for e in everything]
    assert ids == sorted(set(ids))
    assert len(ids) == len(sim.dataset.tables["diary"])
    assert client.stats.throttled == sim.stats.rejected_429
    assert client.stats.current_rate is not None


async def test_exhausted_daily_quota_fails_fast(make_sim: MakeSim, make_client: MakeClient) -> None:
    """A 429 for an exhausted daily quota (Retry-After: until midnight) raises ``RateLimitError`` at once
    instead of sleeping for hours, and is not retried."""
    sim = await make_sim(daily_quota=3)
    client = make_client(sim)
    for business_id in (1, 2, 3):
        await client.businesses.get(business_id)
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        await client.businesses.get(1)
    assert time.monotonic() - started < 0.5
    assert (caught.value.status, caught.value.code) == (429, "QUOTA_EXCEEDED")
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 120
    assert sim.stats.by_status == {200: 3, 429: 1}


async def test_http_date_retry_after_is_honoured(make_sim: MakeSim, make_client: MakeClient) -> None:
    """A ``Retry-After`` given as an HTTP-date is read as a delay and waited out before the retry."""
    sim = await make_sim(rate=1, burst=1, retry_after_format="http-date")
    timeline = Timeline()
    client = make_client(sim, event_hooks=[timeline])
    await client.businesses.get(1)
    business = await client.businesses.get(2)
    assert business.business_id == 2
    (limited_at, limited), *_ = timeline.of(RateLimited)
    assert isinstance(limited, RateLimited)
    assert limited.retry_after is not None
    assert 0 < limited.retry_after <= 2
    (_, retry), *_ = timeline.of(RetryScheduled)
    assert isinstance(retry, RetryScheduled)
    assert retry.wait >= limited.retry_after
    resent = [at for at, e in timeline.of(RequestSent) if isinstance(e, RequestSent) and e.attempt == 2]
    assert resent
    assert resent[0] >= limited_at + limited.retry_after - 0.01
    assert sim.stats.by_status == {200: 2, 429: 1}
