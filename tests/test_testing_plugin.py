"""The opt-in pytest plugin: simulator, config and client fixtures."""

from __future__ import annotations

import pytest

from pracsuite_async import PracSuiteClient
from pracsuite_async.simulator import Simulator, SimulatorConfig

# Imported, not listed in pytest_plugins, so the plugin stays opt-in for the rest of the suite;
# pyflakes reads the fixture parameters as redefinitions, hence the F811 noqa on each test.
from pracsuite_async.testing.plugin import (  # noqa: F401
    pracsuite_client,
    pracsuite_simulator,
    pracsuite_simulator_config,
    pracsuite_simulator_options,
)

pytest_plugins = ["pytester"]


class TestFixtures:
    """The fixtures used directly from this module."""

    async def test_client_lists_every_appointment(self, pracsuite_client: PracSuiteClient) -> None:  # noqa: F811
        """The client walks every appointment of the default 200-record simulator without a 429."""
        appointments = await pracsuite_client.appointments.list(page_size=50).collect()
        assert len(appointments) == 200
        assert len({a.appointment_id for a in appointments}) == 200
        assert pracsuite_client.stats.throttled == 0

    async def test_client_gets_one_record(self, pracsuite_client: PracSuiteClient, pracsuite_simulator: Simulator) -> None:  # noqa: F811
        """A get-by-id call goes through to the same simulator the fixture started."""
        first = (await pracsuite_client.appointments.list(max_items=1).collect())[0]
        again = await pracsuite_client.appointments.get(first.appointment_id)
        assert again.appointment_id == first.appointment_id
        assert pracsuite_simulator.stats.accepted == 2

    @pytest.mark.parametrize("pracsuite_simulator_options", [{"order": "descending", "ignore_sort": True}])
    async def test_options_make_the_server_disagree(self, pracsuite_client: PracSuiteClient) -> None:  # noqa: F811
        """Parametrizing the options fixture reaches the simulator: records arrive in descending id order."""
        ids = [a.appointment_id async for a in pracsuite_client.appointments.list(page_size=50)]
        assert ids == sorted(ids, reverse=True)
        assert len(ids) == 200

    def test_default_config_is_small_and_unlimited(self, pracsuite_simulator_config: SimulatorConfig) -> None:  # noqa: F811
        """The default configuration is a small clinic without a rate limit."""
        assert pracsuite_simulator_config.records == 200
        assert pracsuite_simulator_config.rate is None


_CONFTEST = """
import pytest
from pracsuite_async.simulator import SimulatorConfig

pytest_plugins = ["pracsuite_async.testing.plugin"]

@pytest.fixture
def pracsuite_simulator_config():
    return SimulatorConfig(records=120, rate=200.0, burst=5)
"""

_TEST = """
async def test_overridden(pracsuite_client, pracsuite_simulator):
    appointments = await pracsuite_client.appointments.list(page_size=100).collect()
    assert len(appointments) == 120
    assert pracsuite_simulator.config.rate == 200.0
    assert pracsuite_client.stats.current_rate == 200.0
"""


def test_documented_opt_in_with_config_override(pytester: pytest.Pytester) -> None:
    """``pytest_plugins`` in a root conftest enables the fixtures, and the config fixture can be overridden."""
    # This process imported the plugin already (above), so pytest cannot assertion-rewrite it again.
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings =\n    error\n    ignore::pytest.PytestAssertRewriteWarning\n"
    )
    pytester.makeconftest(_CONFTEST)
    pytester.makepyfile(test_override=_TEST)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
