"""Faults on the wire: retries absorb them for reads, writes are not replayed unless marked idempotent,
and deadlines bound calls against a slow server."""

from __future__ import annotations

import time

import pytest

from pracsuite_async import (
    ConnectionLostError,
    DeadlineExceededError,
    Event,
    RetryPolicy,
    RetryScheduled,
    ServerError,
)
from pracsuite_async.simulator import Simulator
from tests.integration.conftest import MakeClient, MakeSim

FAULTS = "500:0.1,503ra:0.05,reset:0.05,trunc:0.05,badjson:0.05"
#: Enough attempts that a 30 % fault rate cannot exhaust them by chance (0.3 ** 8 per request).
PATIENT_RETRIES = RetryPolicy(max_attempts=8, backoff_base=0.01, budget_min=50)


async def test_faulty_walk_completes_exactly_once(make_sim: MakeSim, make_client: MakeClient) -> None:
    """A GET walk through 500s, 503s with Retry-After, resets, truncated and malformed bodies still yields
    every record exactly once; each fault cost exactly one retry."""
    sim = await make_sim(records=600, faults=FAULTS, fault_retry_after=0, seed=3)
    client = make_client(sim, retry=PATIENT_RETRIES)
    pager = client.appointment_book.list(page_size=20)
    ids = [e.appointment_id async for e in pager]
    assert ids == sorted(sim.dataset.tables["diary"])
    faults = sum(sim.stats.faults.values())
    assert faults > 0
    assert len(sim.stats.faults) >= 3, "several kinds of fault were drawn"
    assert client.stats.retries == faults
    assert sim.stats.by_operation["listAppointmentBook"] == pager.pages_fetched + faults


async def test_reset_post_is_not_replayed(sim: Simulator, make_client: MakeClient) -> None:
    """A POST whose connection is reset raises ``ConnectionLostError(request_sent=True)`` after one attempt."""
    client = make_client(sim)
    patients = len(sim.dataset.tables["patients"])
    sim.reconfigure(faults="reset:1")
    with pytest.raises(ConnectionLostError) as caught:
        await client.patients.create(first_name="Ada", surname="Lovelace")
    assert caught.value.request_sent is True
    assert sim.stats.by_operation["createPatient"] == 1
    assert client.stats.retries == 0
    assert len(sim.dataset.tables["patients"]) == patients


async def test_idempotent_post_is_retried_after_a_reset(sim: Simulator, make_client: MakeClient) -> None:
    """With ``idempotent=True`` the same reset POST is retried and succeeds once the fault clears."""

    def clear_faults(event: Event) -> None:
        if isinstance(event, RetryScheduled):
            sim.reconfigure(faults="")

    client = make_client(sim, event_hooks=[clear_faults], retry=RetryPolicy(backoff_base=0.01))
    sim.reconfigure(faults="reset:1")
    patient = await client.patients.create(first_name="Ada", surname="Lovelace", idempotent=True)
    assert patient.client_id in sim.dataset.tables["patients"]
    assert sim.stats.by_operation["createPatient"] == 2
    assert sim.stats.faults == {"reset": 1}
    assert client.stats.retries == 1


async def test_server_error_on_post_is_not_retried(sim: Simulator, make_client: MakeClient) -> None:
    """A 500 answering a POST surfaces as ``ServerError`` after a single attempt."""
    client = make_client(sim)
    sim.reconfigure(faults="500:1")
    with pytest.raises(ServerError) as caught:
        await client.patients.create(first_name="Ada", surname="Lovelace")
    assert (caught.value.status, caught.value.code) == (500, "SERVER_ERROR")
    assert sim.stats.by_operation["createPatient"] == 1


async def test_deadline_bounds_a_slow_call(make_sim: MakeSim, make_client: MakeClient) -> None:
    """A per-call ``deadline`` shorter than the server's latency raises ``DeadlineExceededError`` in time."""
    sim = await make_sim(latency=0.5)
    client = make_client(sim)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        await client.businesses.get(1, deadline=0.15)
    elapsed = time.monotonic() - started
    assert 0.1 < elapsed < 0.45
    assert caught.value.request_sent is True
    assert sim.stats.accepted == 1


async def test_deadline_bounds_a_list_walk(make_sim: MakeSim, make_client: MakeClient) -> None:
    """A list walk against a slow server fails with ``DeadlineExceededError`` instead of hanging."""
    sim = await make_sim(latency=0.5)
    client = make_client(sim)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        await client.appointments.list(deadline=0.15).collect()
    assert time.monotonic() - started < 0.45


async def test_deadline_refuses_a_rate_limit_wait_it_cannot_cover(
    sim: Simulator, make_client: MakeClient
) -> None:
    """When the limiter's wait exceeds the deadline the call fails at once, before anything is sent."""
    client = make_client(sim, rate_limit=0.5, burst=1)
    await client.businesses.get(1)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        await client.businesses.get(1, deadline=0.5)
    assert time.monotonic() - started < 0.2
    assert caught.value.request_sent is False
    assert sim.stats.total == 1


async def test_stalled_body_times_out_and_is_retried(sim: Simulator, make_client: MakeClient) -> None:
    """A response whose body stalls past the attempt ``timeout`` is abandoned and the GET retried."""

    def clear_faults(event: Event) -> None:
        if isinstance(event, RetryScheduled):
            sim.reconfigure(faults="")

    client = make_client(sim, timeout=0.2, event_hooks=[clear_faults], retry=RetryPolicy(backoff_base=0.01))
    sim.reconfigure(faults="slow:1", slow_seconds=0.5)
    started = time.monotonic()
    business = await client.businesses.get(1)
    assert business.business_id == 1
    assert 0.2 <= time.monotonic() - started < 0.5
    assert (sim.stats.faults, client.stats.retries) == ({"slow": 1}, 1)
