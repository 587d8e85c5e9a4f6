"""Runs the Python blocks of Markdown documents (README.md, docs/*.md) against the bundled simulator.

How a fenced block is run (writers of the README and the docs, read this):

* A ``python`` block that calls ``asyncio.run`` is a program: it runs as a script,
  with ``PRACSUITE_VENDOR_KEY``, ``PRACSUITE_ACCOUNT_KEY`` and ``PRACSUITE_BASE_URL``
  pointing at a loopback simulator (read the base URL from the environment, as the
  Usage example does).
* Any other ``python`` block is a snippet, run as if typed into ``python -m asyncio``
  (top-level ``await`` works) with ``client``, a ``PracSuiteClient`` bound to the
  simulator, already defined. It imports whatever else it uses.
* A block whose first line is ``# <file name>`` (``# conftest.py``, ``# pyproject.toml``;
  further ``# name.py`` lines start further files) is a set of files: the files of one
  section are written to an empty directory, and pytest, run there in a
  subprocess, must pass every test in them without a warning.
* ``<!-- no-run: reason -->`` on the line before a block skips it (keep these few: only
  for what needs real keys); ``<!-- requires: module -->`` skips it unless the module is
  installed. Blocks in other languages (``bash``, plain) are not run.

The simulator is the default one (2,000 appointments, businesses 1..3, patients
1..200, today 2026-01-05, no rate limit), shared by a whole test module, so examples
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from pracsuite_async import PracSuiteClient
from pracsuite_async.simulator import Simulator, SimulatorConfig
from tests.background import BackgroundSimulator

ROOT = Path(__file__).resolve().parents[1]
#: The snippets' client sends as fast as the loopback simulator answers.
UNPACED_RATE = 10_000.0

_FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_DIRECTIVE = re.compile(r"<!--\s*(no-run|requires):?\s*(.*?)\s*-->\s*\Z")
_FILE_MARKER = re.compile(r"^# ([\w.-]+\.(?:py|toml|ini|cfg))[ \t]*$", re.MULTILINE)
_RUNNABLE = {"python", "toml", "ini"}


@attrs.frozen
class Block:
    """One fenced block of a Markdown document: language, text, line, section and directive."""

    language: str
    source: str
    line: int
    section: str
    directive: tuple[str, str] | None
    document: str = "README.md"

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

    @property
    def location(self) -> str:
        """``document:line``, the file name tracebacks show for the block."""
        return f"{self.document}:{self.line}"


def read_blocks(text: str, document: str = "README.md") -> list[Block]:
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
            msg = f"{document} line {before.count(chr(10))}: unknown directive before a block: {previous}"
            raise ValueError(msg)
        blocks.append(
            Block(
                language=match.group(1),
                source=match.group(2),
                line=before.count("\n") + 1,
                section=section,
                directive=(directive.group(1), directive.group(2)) if directive else None,
                document=document,
            )
        )
    return blocks


def read_document(path: Path) -> list[Block]:
    """The blocks of one Markdown file, named by its path relative to the repository root."""
    return read_blocks(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())


def python_snippets(blocks: list[Block]) -> list[Block]:
    """The python blocks run one by one: programs and snippets (not file sets)."""
    return [b for b in blocks if b.language == "python" and b.files is None]


def file_sections(blocks: list[Block]) -> dict[str, list[Block]]:
    """The blocks that hold files, grouped by document and section (``"README.md: Testing"``)."""
    sections: dict[str, list[Block]] = {}
    for block in blocks:
        if block.language in _RUNNABLE and block.files is not None:
            sections.setdefault(f"{block.document}: {block.section}", []).append(block)
    return sections


def honour(block: Block) -> None:
    """Skip a block marked ``no-run``, or one whose ``requires`` module is missing."""
    if block.directive is None:
        return
    kind, argument = block.directive
    if kind == "no-run":
        pytest.skip(f"{block.document} marks this block no-run: {argument}")
    pytest.importorskip(argument, reason=f"{block.document} block needs {argument}")


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    """The default simulator, served from a thread so that programs can call ``asyncio.run``."""
    with BackgroundSimulator(SimulatorConfig()) as sim:
        yield sim


@pytest.fixture
def docs_env(simulator: Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Simulator:
    """The environment the examples read: the simulator's keys and base URL, a scratch cwd."""
    monkeypatch.chdir(tmp_path)  # examples write files (a sync mirror, exports) where they run
    monkeypatch.setenv("PRACSUITE_VENDOR_KEY", simulator.config.vendor_keys[0])
    monkeypatch.setenv("PRACSUITE_ACCOUNT_KEY", simulator.config.account_keys[0])
    monkeypatch.setenv("PRACSUITE_BASE_URL", simulator.base_url)
    return simulator


async def _run_snippet(block: Block, base_url: str) -> None:
    code = compile(block.source, block.location, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    async with PracSuiteClient(base_url=base_url, rate_limit=UNPACED_RATE) as client:
        namespace: dict[str, Any] = {"__name__": "__main__", "client": client}
        result = eval(code, namespace)  # noqa: S307 - the documentation's own examples
        if inspect.iscoroutine(result):
            await result


def run_block(block: Block, simulator: Simulator) -> None:
    """Run one python block to the end: a program as a script, a snippet with a ready ``client``."""
    honour(block)
    if block.is_program:
        code = compile(block.source, block.location, "exec")
        exec(code, {"__name__": "__main__"})  # noqa: S102 - the documentation's own examples
    else:
        asyncio.run(_run_snippet(block, simulator.base_url))


def run_file_section(blocks: list[Block], directory: Path) -> None:
    """Write a section's files to ``directory`` and assert that pytest passes them without warnings."""
    for block in blocks:
        honour(block)
        for name, text in (block.files or {}).items():
            (directory / name).write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PRACSUITE_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=directory, capture_output=True, text=True, timeout=120, env=env, check=False,
    )
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.fullmatch(r"\d+ passed in [\d.]+s", summary), summary
