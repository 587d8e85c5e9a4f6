"""README.md runs: every Python block is executed against the bundled simulator.

How a fenced block of README.md is run (writers of the README, read this):

* A ``python`` block that calls ``asyncio.run`` is a program: it runs as a script,
  with ``PRACSUITE_VENDOR_KEY``, ``PRACSUITE_ACCOUNT_KEY`` and ``PRACSUITE_BASE_URL``
  pointing at a loopback simulator (read the base URL from the environment, as the
  Usage example does).
* Any other ``python`` block is a snippet, run as if typed into ``python -m asyncio``
  (top-level ``await`` works) with ``client``, a ``PracSuiteClient`` bound to the
  simulator, already defined. It imports whatever else it uses.
* A block whose first line is ``# <file name>`` (``# conftest.py``, ``# pyproject.toml``;
  further ``# name.py`` lines start further files) is a set of files: the files of one
  README section are written to an empty directory, and pytest, run there in a
  subprocess, must pass every test in them without a warning.
* ``<!-- no-run: reason -->`` on the line before a block skips it (keep these few: only
  for what needs real keys); ``<!-- requires: module -->`` skips it unless the module is
  installed. Blocks in other languages (``bash``, plain) are not run.

The simulator is the default one (2,000 appointments, businesses 1..3, patients
1..200, today 2026-01-05, no rate limit), shared by the whole module, so examples
should use ids and dates it has.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from pracsuite_async import PracSuiteClient
from pracsuite_async.simulator import Simulator, SimulatorConfig
from tests.background import BackgroundSimulator

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: The snippets' client sends as fast as the loopback simulator answers.
UNPACED_RATE = 10_000.0

_FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_DIRECTIVE = re.compile(r"<!--\s*(no-run|requires):?\s*(.*?)\s*-->\s*\Z")
_FILE_MARKER = re.compile(r"^# ([\w.-]+\.(?:py|toml|ini|cfg))[ \t]*$", re.MULTILINE)
_RUNNABLE = {"python", "toml", "ini"}


@attrs.frozen
class Block:
    """One fenced block of README.md: language, text, line, section and directive."""

    language: str
    source: str
    line: int
    section: str
    directive: tuple[str, str] | None

    @property
    def files(self) -> dict[str, str] | None:
        """The files the block holds, by name, when its first line names one; else ``None``."""
        if not _FILE_MARKER.match(self.source):
            return None
        parts = _FILE_MARKER.split(self.source)
        return {name: text.strip("\n") + "\n" for name, text in zip(parts[1::2], parts[2::2], strict=True)}

    @property
    def is_program(self) -> bool:
        """Whether the block runs its own event loop."""
        return "asyncio.run(" in self.source

    @property
    def id(self) -> str:
        """A test id such as ``L33-usage``."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.section.lower()).strip("-")
        return f"L{self.line}-{slug}"


def read_blocks(text: str) -> list[Block]:
    """Every fenced block of a Markdown document, with its section heading and directive."""
    blocks = []
    section, end = "top", 0
    for match in _FENCE.finditer(text):
        before = text[: match.start()]
        # Headings between blocks only: a "# comment" inside a block is not one.
        headings = re.findall(r"^#{1,6} (.+)$", text[end : match.start()], re.MULTILINE)
        section, end = (headings[-1] if headings else section), match.end()
        previous = before.rstrip("\n").rsplit("\n", 1)[-1]
        directive = _DIRECTIVE.search(previous)
        if previous.startswith("<!--") and directive is None:
            msg = f"README.md line {before.count(chr(10))}: unknown directive before a block: {previous}"
            raise ValueError(msg)
        blocks.append(
            Block(
                language=match.group(1),
                source=match.group(2),
                line=before.count("\n") + 1,
                section=section,
                directive=(directive.group(1), directive.group(2)) if directive else None,
            )
        )
    return blocks


def file_sections(blocks: list[Block]) -> dict[str, list[Block]]:
    """The blocks that hold files, grouped by README section."""
    sections: dict[str, list[Block]] = {}
    for block in blocks:
        if block.language in _RUNNABLE and block.files is not None:
            sections.setdefault(block.section, []).append(block)
    return sections


BLOCKS = read_blocks(README.read_text(encoding="utf-8"))
PYTHON = [b for b in BLOCKS if b.language == "python" and b.files is None]
FILE_SECTIONS = file_sections(BLOCKS)


def _honour(block: Block) -> None:
    """Skip a block marked ``no-run``, or one whose ``requires`` module is missing."""
    if block.directive is None:
        return
    kind, argument = block.directive
    if kind == "no-run":
        pytest.skip(f"README marks this block no-run: {argument}")
    pytest.importorskip(argument, reason=f"README block needs {argument}")


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    """The default simulator, served from a thread so that programs can call ``asyncio.run``."""
    with BackgroundSimulator(SimulatorConfig()) as sim:
        yield sim


@pytest.fixture
def readme_env(simulator: Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Simulator:
    """The environment the README's examples read: the simulator's keys and base URL, a scratch cwd."""
    monkeypatch.chdir(tmp_path)  # examples write files (a sync mirror, exports) where they run
    monkeypatch.setenv("PRACSUITE_VENDOR_KEY", simulator.config.vendor_keys[0])
    monkeypatch.setenv("PRACSUITE_ACCOUNT_KEY", simulator.config.account_keys[0])
    monkeypatch.setenv("PRACSUITE_BASE_URL", simulator.base_url)
    return simulator


async def _run_snippet(block: Block, base_url: str) -> None:
    code = compile(block.source, f"README.md:{block.line}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    async with PracSuiteClient(base_url=base_url, rate_limit=UNPACED_RATE) as client:
        namespace: dict[str, Any] = {"__name__": "__main__", "client": client}
        result = eval(code, namespace)  # noqa: S307 - the README's own examples
        if inspect.iscoroutine(result):
            await result


@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_block_runs(block: Block, readme_env: Simulator) -> None:
    """The block runs to the end against the simulator: a program as a script, a snippet with a client."""
    _honour(block)
    if block.is_program:
        code = compile(block.source, f"README.md:{block.line}", "exec")
        exec(code, {"__name__": "__main__"})  # noqa: S102 - the README's own examples
    else:
        asyncio.run(_run_snippet(block, readme_env.base_url))


@pytest.mark.parametrize("section", list(FILE_SECTIONS))
def test_documented_files_pass_pytest(section: str, tmp_path: Path) -> None:
    """The files a README section shows, written as shown, make a pytest run that passes without warnings."""
    for block in FILE_SECTIONS[section]:
        _honour(block)
        for name, text in (block.files or {}).items():
            (tmp_path / name).write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PRACSUITE_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env, check=False,
    )
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.fullmatch(r"\d+ passed in [\d.]+s", summary), summary


class TestHarness:
    """The README is read the way the module docstring says."""

    def test_every_python_block_is_run(self) -> None:
        """Every python block is a program, a snippet or a file set, and at most two are marked no-run."""
        python = [b for b in BLOCKS if b.language == "python"]
        assert len(python) >= 6
        assert all(b in PYTHON or b.section in FILE_SECTIONS for b in python)
        assert sum(b.directive is not None and b.directive[0] == "no-run" for b in BLOCKS) <= 2

    def test_unknown_directive_is_refused(self) -> None:
        """A misspelt directive before a block is an error, not a silently run (or skipped) block."""
        with pytest.raises(ValueError, match="unknown directive"):
            read_blocks("<!-- norun -->\n```python\nx = 1\n```\n")

    def test_file_blocks_split_on_name_lines(self) -> None:
        """A block whose lines name files is split into those files; a directive is read from the line before."""
        text = (
            "## Testing\n\n```toml\n# pyproject.toml\n```\n\n"
            "<!-- requires: fastapi -->\n```python\n# conftest.py\nx = 1\n\n# test_a.py\ny = 2\n```\n"
        )
        toml, block = read_blocks(text)
        assert block.files == {"conftest.py": "x = 1\n", "test_a.py": "y = 2\n"}
        assert block.directive == ("requires", "fastapi")
        assert toml.section == block.section == "Testing"
        assert (toml.line, block.line) == (3, 8)

    def test_testing_extra_installs_the_fixtures_needs(self) -> None:
        """The ``testing`` extra the README names installs pytest and pytest-asyncio."""
        extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
        names = {re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0] for requirement in extras["testing"]}
        assert names == {"pytest", "pytest-asyncio"}
        assert "pip install 'pracsuite-async[testing]'" in README.read_text(encoding="utf-8")

