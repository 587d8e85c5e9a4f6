"""pytest fixtures that run the bundled simulator and hand out a client bound to it.

Opt in from the root ``conftest.py`` of your tests (the plugin has no entry point,
so it never loads by itself)::

    pytest_plugins = ["pracsuite_async.testing.plugin"]

    async def test_appointments(pracsuite_client):
        appointments = await pracsuite_client.appointments.list(max_items=5).collect()
        assert len(appointments) == 5

The fixtures are function-scoped and async (they need ``pytest-asyncio``):

* ``pracsuite_simulator_options`` -- keyword arguments merged into the default config
  (empty by default). Parametrize it to run a test against a server that disagrees
  with the client the way a real one might::

      @pytest.mark.parametrize(
          "pracsuite_simulator_options",
          [{"order": "descending"}, {"order": "shuffled", "ignore_sort": True}, {"sort_wire": "json"}],
      )
      async def test_walk(pracsuite_client): ...

  (``order``, ``ignore_sort``, ``sort_wire``, ``ignore_page``, ``app_time_z``,
  ``omit_optional``, ``unknown_fields``; see :class:`~pracsuite_async.simulator.SimulatorConfig`.)
* ``pracsuite_simulator_config`` -- the :class:`~pracsuite_async.simulator.SimulatorConfig`;
  override it to change the data or to add a rate limit, latency or faults.
  The default is a small clinic (200 appointments) with no rate limit.
* ``pracsuite_simulator`` -- a running :class:`~pracsuite_async.simulator.Simulator`
  on a free loopback port (``.base_url``, ``.stats``, ``.dataset``), stopped afterwards.
* ``pracsuite_client`` -- a :class:`~pracsuite_async.PracSuiteClient` with the
  simulator's keys, paced at the simulator's rate (or effectively unpaced when it
  has none), closed afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from pracsuite_async import PracSuiteClient
from pracsuite_async.simulator import Simulator, SimulatorConfig

__all__ = [
    "pracsuite_client",
    "pracsuite_simulator",
    "pracsuite_simulator_config",
    "pracsuite_simulator_options",
]

#: Appointments in the default simulated clinic: enough for several pages, generated in milliseconds.
DEFAULT_RECORDS = 200
#: The client's rate when the simulator has no limit. A configured rate never 429s
#: itself into a slow start the way the adaptive default (10/s) would, and this one is
#: far above what loopback tests send, so it never holds a request back.
UNPACED_RATE = 10_000.0


@pytest.fixture
def pracsuite_simulator_options() -> dict[str, Any]:
    """Extra ``SimulatorConfig`` arguments (none by default); parametrize to make the server disagree."""
    return {}


@pytest.fixture
def pracsuite_simulator_config(pracsuite_simulator_options: dict[str, Any]) -> SimulatorConfig:
    """The settings: 200 appointments, seed 0, no rate limit, plus the options (override to change)."""
    return SimulatorConfig(**{"records": DEFAULT_RECORDS, **pracsuite_simulator_options})


@pytest_asyncio.fixture
async def pracsuite_simulator(pracsuite_simulator_config: SimulatorConfig) -> AsyncIterator[Simulator]:
    """A simulator serving ``pracsuite_simulator_config`` on a free loopback port."""
    async with Simulator(pracsuite_simulator_config) as simulator:
        yield simulator


@pytest_asyncio.fixture
async def pracsuite_client(
    pracsuite_simulator: Simulator, pracsuite_simulator_config: SimulatorConfig
) -> AsyncIterator[PracSuiteClient]:
    """A client bound to ``pracsuite_simulator`` with its keys and its rate limit."""
    config = pracsuite_simulator_config
    # accept_any_key simulators may list no keys; any non-empty value then works.
    vendor_key = config.vendor_keys[0] if config.vendor_keys else "test-vendor-key"
    account_key = config.account_keys[0] if config.account_keys else "test-account-key"
    rate = config.rate if config.rate is not None else UNPACED_RATE
    async with PracSuiteClient(
        vendor_key, account_key, base_url=pracsuite_simulator.base_url, rate_limit=rate
    ) as client:
        yield client
