"""``pracsuite sync`` and ``pracsuite demo --sync`` end to end (the simulator on loopback)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pracsuite_async.cli._app import app
from pracsuite_async.simulator import Simulator

KEYS = {"PRACSUITE_VENDOR_KEY": "sim-vendor-key", "PRACSUITE_ACCOUNT_KEY": "sim-account-key"}


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=KEYS, catch_exceptions=False)


def _counts(output: str) -> dict[str, int]:
    return {name: int(n) for n, name in re.findall(r"(?:^|[ ,;:])(\d+) ?(requests|429s)", output)} | {
        name: int(n) for name, n in re.findall(r"(fetched|inserted|updated|deleted) (\d+)", output)
    }


async def test_sync_command_prints_a_summary_and_a_second_run_writes_nothing(
    sim: Simulator, tmp_path: Path
) -> None:
    """The summary line counts fetched, inserted, updated, deleted, requests and 429s; a rerun writes nothing."""
    db = tmp_path / "m.sqlite"
    args = ("sync", "appointments", "patients", "--db", str(db), "--base-url", sim.base_url, "--rate", "10000", "-q")
    # The command runs its own event loop; a thread keeps this loop serving the simulator.
    first = await asyncio.to_thread(_invoke, *args)
    assert first.exit_code == 0, first.output
    counts = _counts(first.stdout)
    assert counts["fetched"] == counts["inserted"] > 0
    assert counts["429s"] == 0
    second = await asyncio.to_thread(_invoke, *args)
    assert second.exit_code == 0, second.output
    again = _counts(second.stdout)
    assert (again["inserted"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert again["requests"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sync", "nonsense", "--db", "x.sqlite"), "not a syncable resource"),
        (("sync", "appointments", "--db", "x.sqlite", "--jsonl", "d"), "only one of"),
    ],
)
def test_sync_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    """Unknown resources and two sinks at once are usage errors (status 2), before any request."""
    result = _invoke(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_demo_sync_verifies_its_mirror(tmp_path: Path) -> None:
    """``pracsuite demo --sync`` mirrors twice, checks the ids and that the second run wrote nothing."""
    db = tmp_path / "demo.sqlite"
    result = _invoke("demo", "--sync", "--records", "400", "--rate", "1000", "--quiet", "--db", str(db))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "missing 0, unexpected 0; second run wrote nothing" in text
    assert text.endswith(": OK")
    assert db.exists()
