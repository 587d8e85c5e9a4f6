"""README.md runs: every Python block is executed against the bundled simulator.

How a block is run (programs, snippets with a ready ``client``, file sets run by
pytest, ``no-run``/``requires`` markers) is described in :mod:`tests.docs_blocks`,
which docs/*.md share (tests/test_docs.py).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from pracsuite_async.simulator import Simulator
from tests.docs_blocks import (
    ROOT,
    Block,
    docs_env,
    file_sections,
    python_snippets,
    read_blocks,
    read_document,
    run_block,
    run_file_section,
    simulator,
)

__all__ = ["docs_env", "simulator"]  # fixtures, imported for this module's tests

README = ROOT / "README.md"
BLOCKS = read_document(README)
PYTHON = python_snippets(BLOCKS)
FILE_SECTIONS = file_sections(BLOCKS)


@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_block_runs(block: Block, docs_env: Simulator) -> None:
    """The block runs to the end against the simulator: a program as a script, a snippet with a client."""
    run_block(block, docs_env)


@pytest.mark.parametrize("section", list(FILE_SECTIONS))
def test_documented_files_pass_pytest(section: str, tmp_path: Path) -> None:
    """The files a README section shows, written as shown, make a pytest run that passes without warnings."""
    run_file_section(FILE_SECTIONS[section], tmp_path)


class TestHarness:
    """The README is read the way tests/docs_blocks.py says."""

    def test_every_python_block_is_run(self) -> None:
        """Every python block is a program, a snippet or a file set, and at most two are marked no-run."""
        python = [b for b in BLOCKS if b.language == "python"]
        in_files = {b for blocks in FILE_SECTIONS.values() for b in blocks}
        assert len(python) >= 6
        assert all(b in PYTHON or b in in_files for b in python)
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
        assert list(file_sections([toml, block])) == ["README.md: Testing"]

    def test_testing_extra_installs_the_fixtures_needs(self) -> None:
        """The ``testing`` extra the README names installs pytest and pytest-asyncio."""
        extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
        names = {re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0] for requirement in extras["testing"]}
        assert names == {"pytest", "pytest-asyncio"}
        assert "pip install 'pracsuite-async[testing]'" in README.read_text(encoding="utf-8")
