"""The ``pracsuite`` command line: the demo, exports, exit codes and key hygiene."""

from __future__ import annotations

import csv
import errno
import functools
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from pracsuite_async import ClientStats, PracSuiteClient, RetryPolicy
from pracsuite_async.cli import _app as cli_app
from pracsuite_async.cli import _export, main
from pracsuite_async.cli._app import app
from pracsuite_async.cli._export import ExportProgress, Format, atomic_output
from pracsuite_async.simulator import Simulator, SimulatorConfig
from tests.background import BackgroundSimulator

RECORDS = 300
VENDOR_KEY = "sim-vendor-key"
ACCOUNT_KEY = "sim-account-key"
WRONG_VENDOR_KEY = "vendor-SENTINEL-wrong-4d1f"


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    """A 300-appointment simulator without a rate limit, shared by this module's export tests."""
    with BackgroundSimulator(SimulatorConfig(records=RECORDS)) as sim:
        yield sim


@pytest.fixture
def runner() -> CliRunner:
    """A CliRunner with the simulator's keys in the environment."""
    return CliRunner(env={"PRACSUITE_VENDOR_KEY": VENDOR_KEY, "PRACSUITE_ACCOUNT_KEY": ACCOUNT_KEY})


def export(runner: CliRunner, simulator: Simulator, *args: str) -> Result:
    """Run ``pracsuite export`` against the simulator, quietly."""
    return runner.invoke(app, ["export", *args, "--base-url", simulator.base_url, "--quiet"])


def appointment_ids(simulator: Simulator) -> dict[int, str]:
    """Ids of the appointments ``/appointment`` serves, with their ``modified`` timestamps."""
    diary = simulator.dataset.tables["diary"]
    return {rid: rec["modified"] for rid, rec in diary.items() if rec.get("_kind") == "appointment"}


def one_error_line(result: Result) -> str:
    """The single stderr line of a failed command."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pracsuite: error: ")
    return lines[0]


class TestExport:
    """``pracsuite export`` against a running simulator."""

    def test_jsonl(self, runner: CliRunner, simulator: Simulator, tmp_path: Path) -> None:
        """Every appointment is written once as a JSON line, and no temporary file is left behind."""
        out = tmp_path / "appointments.jsonl"
        result = export(runner, simulator, "appointments", "--out", str(out))
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert sorted(row["appointment_id"] for row in rows) == sorted(appointment_ids(simulator))
        assert f"exported {RECORDS} appointments (3 pages" in result.stdout
        assert list(tmp_path.iterdir()) == [out]

    def test_csv(self, runner: CliRunner, simulator: Simulator, tmp_path: Path) -> None:
        """CSV has one column per top-level field in model order; nested values are JSON-encoded."""
        out = tmp_path / "appointments.csv"
        result = export(runner, simulator, "appointments", "--out", str(out), "--page-size", "70")
        assert result.exit_code == 0, result.output
        with out.open(newline="") as stream:
            reader = csv.DictReader(stream)
            rows = list(reader)
            header = reader.fieldnames or []
        assert len(rows) == RECORDS
        assert header[:4] == ["links", "tenant_id", "appointment_id", "client_id"]
        assert {"app_time", "modified", "resource_ids", "row_num"} <= set(header)
        assert json.loads(rows[0]["links"])["self"].endswith(f"/appointment/{rows[0]['appointment_id']}")
        assert list(tmp_path.iterdir()) == [out]

    def test_since(self, runner: CliRunner, simulator: Simulator, tmp_path: Path) -> None:
        """``--since`` keeps only records whose ``updated`` time is at or after it."""
        modified = sorted(appointment_ids(simulator).values())
        since = modified[len(modified) // 2]
        out = tmp_path / "recent.jsonl"
        result = export(runner, simulator, "appointments", "--out", str(out), "--since", since)
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert len(rows) == sum(m >= since for m in modified)
        assert all(row["modified"] >= since for row in rows)

    def test_since_needs_a_timestamp_field(self, runner: CliRunner, simulator: Simulator, tmp_path: Path) -> None:
        """``--since`` on a resource without updated/modified/created filters is a one-line usage error."""
        result = export(runner, simulator, "sexes", "--out", str(tmp_path / "x.jsonl"), "--since", "2025-01-01")
        assert result.exit_code == 2
        assert "--since" in one_error_line(result)
        assert list(tmp_path.iterdir()) == []


class TestFormats:
    """The output format follows the extension of ``--out`` or ``--format``; unknown ones are refused."""

    def test_json_is_one_array(self, runner: CliRunner, simulator: Simulator, tmp_path: Path) -> None:
        """A .json file holds one JSON array of every record, written page by page."""
        out = tmp_path / "appointments.json"
        result = export(runner, simulator, "appointments", "--out", str(out), "--page-size", "70")
        assert result.exit_code == 0, result.output
        rows = json.loads(out.read_text())
        assert sorted(row["appointment_id"] for row in rows) == sorted(appointment_ids(simulator))

    def test_format_option_for_another_extension(
        self, runner: CliRunner, simulator: Simulator, tmp_path: Path
    ) -> None:
        """``--format csv`` writes CSV to a file whose extension names no format."""
        out = tmp_path / "businesses.txt"
        result = export(runner, simulator, "businesses", "--out", str(out), "--format", "csv")
        assert result.exit_code == 0, result.output
        assert out.read_text().startswith("links,")

    @pytest.mark.parametrize(
        ("name", "extra", "words"),
        [
            ("appointments.xlsx", [], "'.xlsx'"),
            ("appointments", [], "without an extension"),
            ("appointments.json", ["--format", "csv"], "contradicts the .json extension"),
        ],
    )
    def test_unknown_or_contradictory_format(
        self, runner: CliRunner, simulator: Simulator, tmp_path: Path, name: str, extra: list[str], words: str
    ) -> None:
        """An unknown extension without --format, or a --format contradicting the extension, exits 2."""
        result = export(runner, simulator, "appointments", "--out", str(tmp_path / name), *extra)
        assert result.exit_code == 2
        assert words in one_error_line(result)
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize(("pages", "expected"), [([], []), ([[{"id": 1}], [], [{"id": 2}, {"id": 3}]], [1, 2, 3])])
    def test_json_sink(self, tmp_path: Path, pages: list[list[dict[str, int]]], expected: list[int]) -> None:
        """The JSON sink writes a valid array for any number of pages, empty pages and no records included."""
        out = tmp_path / "data.json"
        with atomic_output(out, "json") as sink:
            for page in pages:
                sink.write(page)
        assert [row["id"] for row in json.loads(out.read_text())] == expected


class TestBadOut:
    """A ``--out`` that cannot be written exits 2 with one line naming it, never the temporary file."""

    def test_missing_directory(self, runner: CliRunner, simulator: Simulator, tmp_path: Path) -> None:
        """An --out inside a directory that does not exist exits 2 before any request is sent."""
        simulator.reset_stats()
        out = tmp_path / "no-such-dir" / "appointments.jsonl"
        result = export(runner, simulator, "appointments", "--out", str(out))
        assert result.exit_code == 2
        line = one_error_line(result)
        assert f"cannot write {out}: the directory {out.parent} does not exist" in line
        assert ".part" not in result.output
        assert simulator.stats.total == 0

    def test_unwritable_directory(
        self, runner: CliRunner, simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A directory refusing the temporary file exits 2 naming --out and the reason, not the .part file."""
        out = tmp_path / "appointments.jsonl"
        part = str(tmp_path / ".appointments.jsonl.x1y2.part")

        def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
            # The suite runs as root, which chmod cannot stop; this is the error mkstemp raises otherwise.
            raise PermissionError(errno.EACCES, "Permission denied", part)

        monkeypatch.setattr(_export.tempfile, "mkstemp", refuse)
        result = export(runner, simulator, "appointments", "--out", str(out))
        assert result.exit_code == 2
        assert one_error_line(result) == f"pracsuite: error: --out: cannot write {out}: permission denied"

    def test_failed_rename_names_the_output(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A rename into place that fails is an OutputError about --out, and the temporary file is removed."""
        out = tmp_path / "data.jsonl"

        def refuse(src: str, dst: object) -> None:
            raise OSError(errno.EXDEV, "Invalid cross-device link", src, str(dst))

        monkeypatch.setattr(_export.os, "replace", refuse)
        with pytest.raises(_export.OutputError) as info, atomic_output(out, "jsonl") as sink:
            sink.write([{"id": 1}])
        assert str(info.value) == f"--out: cannot write {out}: invalid cross-device link"
        assert list(tmp_path.iterdir()) == []

    def test_directory_as_out(self, runner: CliRunner, simulator: Simulator, tmp_path: Path) -> None:
        """An --out naming an existing directory is refused with exit 2."""
        target = tmp_path / "export.jsonl"
        target.mkdir()
        result = export(runner, simulator, "appointments", "--out", str(target))
        assert result.exit_code == 2
        assert ".part" not in result.output

    def test_demo_refuses_a_missing_directory(self, tmp_path: Path) -> None:
        """``pracsuite demo --out`` into a missing directory exits 2 before generating any data."""
        out = tmp_path / "missing" / "demo.jsonl"
        result = CliRunner().invoke(app, ["demo", "--records", "10", "--quiet", "--out", str(out)])
        assert result.exit_code == 2
        assert "does not exist" in one_error_line(result)


class TestProgress:
    """The progress bar's limiter figure is a current per-request wait, not a growing sum."""

    @staticmethod
    def stats(requests: int, wait: float) -> ClientStats:
        """Client counters with ``requests`` sent and ``wait`` seconds of summed limiter wait."""
        return ClientStats(requests_sent=requests, retries=0, throttled=0, rate_limit_wait=wait, current_rate=None)

    def test_limiter_wait_is_per_request_over_the_window(self) -> None:
        """Ten requests that waited 12 s in total over the last window show 1.20s/req, and keep it through a pause."""
        now = [0.0]
        output = io.StringIO()
        progress = ExportProgress(Console(file=output, width=200), "appointments", clock=lambda: now[0])
        with progress:
            progress.update(records=100, pages=1, total=1000, stats=self.stats(1, 0.0))
            now[0] = 1.0
            progress.update(records=1100, pages=11, total=1000, stats=self.stats(11, 12.0))
            now[0] = 30.0  # a long pause with no request sent keeps the last figure
            progress.update(records=1100, pages=11, total=1000, stats=self.stats(11, 12.0))
        text = output.getvalue()
        assert "limiter wait 1.20s/req" in text
        assert "12s" not in text.replace("1.20s", "")


class TestExitCodes:
    """Bad input exits 2, auth failures 3, each with one line and never a key."""

    def test_unknown_resource(self, runner: CliRunner, simulator: Simulator, tmp_path: Path) -> None:
        """An unknown resource exits 2 and lists the valid ones."""
        result = export(runner, simulator, "appointmentz", "--out", str(tmp_path / "x.jsonl"))
        assert result.exit_code == 2
        line = one_error_line(result)
        assert "'appointmentz'" in line
        assert "appointments, businesses" in line
        assert "patients" in line

    @pytest.mark.parametrize(
        ("spec", "field"),
        [("nme:=5", "nme"), ("business_id:~5", "business_id"), ("created:>=yesterday", "created")],
    )
    def test_bad_filter(
        self, runner: CliRunner, simulator: Simulator, tmp_path: Path, spec: str, field: str
    ) -> None:
        """A filter with an unknown field, a disallowed operator or a bad value exits 2 naming the field."""
        result = export(runner, simulator, "appointments", "--out", str(tmp_path / "x.jsonl"), "--filter", spec)
        assert result.exit_code == 2
        assert one_error_line(result).startswith(f"pracsuite: error: {field}: ")
        assert list(tmp_path.iterdir()) == []

    def test_wrong_key(self, runner: CliRunner, simulator: Simulator, tmp_path: Path) -> None:
        """A rejected key exits 3 with one line that does not contain the key, and writes no file."""
        out = tmp_path / "x.jsonl"
        result = export(runner, simulator, "appointments", "--out", str(out), "--vendor-key", WRONG_VENDOR_KEY)
        assert result.exit_code == 3
        assert "authentication failed" in one_error_line(result)
        assert WRONG_VENDOR_KEY not in result.output
        assert ACCOUNT_KEY not in result.output
        assert list(tmp_path.iterdir()) == []

    def test_missing_key(self, simulator: Simulator, tmp_path: Path) -> None:
        """Without a key in the environment or the flags, export exits 2 naming the variable."""
        runner = CliRunner(env={"PRACSUITE_VENDOR_KEY": None, "PRACSUITE_ACCOUNT_KEY": None})
        result = export(runner, simulator, "appointments", "--out", str(tmp_path / "x.jsonl"))
        assert result.exit_code == 2
        assert "PRACSUITE_VENDOR_KEY" in one_error_line(result)

    def test_unreachable_server(self, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A connection failure exits 1 with the error on one line."""
        # The retries still happen, with millisecond backoff instead of seconds of real sleeps.
        fast = functools.partial(PracSuiteClient, retry=RetryPolicy(backoff_base=0.001, backoff_max=0.01))
        monkeypatch.setattr(cli_app, "PracSuiteClient", fast)
        args = ["export", "businesses", "--out", str(tmp_path / "x.jsonl"), "--quiet"]
        result = runner.invoke(app, [*args, "--base-url", "http://127.0.0.1:9/v1"])
        assert result.exit_code == 1
        assert "ConnectError" in one_error_line(result)
        assert list(tmp_path.iterdir()) == []


class TestMain:
    """The console-script entry point."""

    def test_help_lists_commands(self) -> None:
        """``--help`` lists the three commands and the exit statuses."""
        result = CliRunner().invoke(app, ["--help"])
        assert result.exit_code == 0
        for command in ("demo", "export", "simulator"):
            assert command in result.stdout
        assert "3 authentication" in result.stdout

    def test_missing_extra(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        """Without click installed, ``main`` prints the pip hint on one line and exits 2."""
        monkeypatch.setitem(sys.modules, "click", None)
        with pytest.raises(SystemExit) as exc_info:
            main(["--help"])
        assert exc_info.value.code == 2
        assert capsys.readouterr().err == (
            "pracsuite: the command-line tool needs click and rich: pip install 'pracsuite-async[cli]'\n"
        )


def _pracsuite() -> list[str]:
    script = shutil.which("pracsuite", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "pracsuite_async.cli"]


def test_demo_end_to_end(tmp_path: Path) -> None:
    """The demo exports 600 appointments at 100 req/s, verifies them and exits 0 with a short log."""
    out = tmp_path / "demo.jsonl"
    args = ["demo", "--records", "600", "--rate", "100", "--burst", "10", "--out", str(out)]
    env = {**os.environ, "COLUMNS": "120"}
    command = [*_pracsuite(), *args]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)  # noqa: S603 - our own script
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = dict(re.findall(r"│ (\S[^│]*?)\s+│ ([^│]*?)\s+│", proc.stdout))
    assert rows["Records"] == "600 written, 600 served by the simulator"
    assert rows["Duplicate ids"] == "0"
    assert rows["Missing ids"] == "0"
    assert rows["429 responses"] == "0"
    assert rows["Verification"] == "OK"
    # Not a terminal: rich prints the progress bar once at the end, not once per page.
    assert len(proc.stderr.strip().splitlines()) <= 3, proc.stderr
    assert len(out.read_text().splitlines()) == 600


def _interrupted_write(out: Path, fmt: Format) -> None:
    with atomic_output(out, fmt) as sink:
        sink.write([{"appointment_id": 1}])
        raise KeyboardInterrupt


class TestAtomicOutput:
    """The output file is replaced only by a complete export."""

    @pytest.mark.parametrize("fmt", ["jsonl", "csv"])
    def test_failure_keeps_the_old_file(self, tmp_path: Path, fmt: Format) -> None:
        """An export that fails halfway leaves the previous file untouched and no temporary files."""
        out = tmp_path / f"data.{fmt}"
        out.write_text("previous export\n")
        with pytest.raises(KeyboardInterrupt):
            _interrupted_write(out, fmt)
        assert out.read_text() == "previous export\n"
        assert list(tmp_path.iterdir()) == [out]

    def test_csv_columns_are_the_union(self, tmp_path: Path) -> None:
        """CSV columns are every field seen, in first-seen order; nulls are empty and nested values JSON."""
        out = tmp_path / "data.csv"
        with atomic_output(out, "csv") as sink:
            sink.write([{"id": 1, "tags": [1, 2], "ok": True}, {"id": 2, "note": None, "extra": {"a": "é"}}])
        assert out.read_text(encoding="utf-8").splitlines() == [
            "id,tags,ok,note,extra",
            '1,"[1,2]",true,,',
            '2,,,,"{""a"":""é""}"',
        ]
