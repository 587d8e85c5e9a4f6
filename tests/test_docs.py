"""docs/*.md runs: every Python block of the documentation site is executed against the simulator.

The rules (programs, snippets with a ready ``client``, file sets run by pytest,
``no-run``/``requires`` markers) are those of README.md, in :mod:`tests.docs_blocks`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import pracsuite_async
from pracsuite_async.simulator import Simulator
from tests.docs_blocks import (
    ROOT,
    Block,
    docs_env,
    file_sections,
    python_snippets,
    read_document,
    run_block,
    run_file_section,
    simulator,
)
from tools import docs_hooks

__all__ = ["docs_env", "simulator"]  # fixtures, imported for this module's tests

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
BLOCKS = [block for page in PAGES for block in read_document(page)]
PYTHON = python_snippets(BLOCKS)
FILE_SECTIONS = file_sections(BLOCKS)


@pytest.mark.parametrize("block", PYTHON, ids=[f"{Path(b.document).stem}-{b.id}" for b in PYTHON])
def test_python_block_runs(block: Block, docs_env: Simulator) -> None:
    """The block runs to the end against the simulator: a program as a script, a snippet with a client."""
    run_block(block, docs_env)


@pytest.mark.parametrize("section", list(FILE_SECTIONS))
def test_documented_files_pass_pytest(section: str, tmp_path: Path) -> None:
    """The files a page shows, written as shown, make a pytest run that passes without warnings."""
    run_file_section(FILE_SECTIONS[section], tmp_path)


class TestSite:
    """The pages the tests run are the pages the site builds."""

    def test_every_page_is_in_the_nav(self) -> None:
        """Each docs/*.md page is listed in mkdocs.yml's nav, and each nav entry exists."""
        config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
        listed = {page for entry in config["nav"] for page in entry.values()}
        assert listed == {page.name for page in PAGES}

    def test_blocks_are_run_and_few_are_skipped(self) -> None:
        """Every python block is run as a snippet, a program or a file set; at most three are no-run."""
        python = [b for b in BLOCKS if b.language == "python"]
        in_files = {b for blocks in FILE_SECTIONS.values() for b in blocks}
        assert len(python) >= 20
        assert all(b in PYTHON or b in in_files for b in python)
        assert sum(b.directive is not None and b.directive[0] == "no-run" for b in BLOCKS) <= 3

    def test_generated_operations_table_lists_every_operation(self) -> None:
        """The Resources page's generated table has a row per operation, covering all 29 namespaces."""
        table = docs_hooks.on_page_markdown("<!-- generated: operations -->")
        rows = table.splitlines()[2:]
        assert len(rows) == len(pracsuite_async.OPERATIONS) == 80
        assert len({row.split("|")[1].strip() for row in rows}) == 29
        assert "<!-- generated: operations -->" in (DOCS / "resources.md").read_text(encoding="utf-8")

    def test_generated_error_tree_names_every_error(self) -> None:
        """The Errors page's tree, taken from the ``_errors`` docstring, names every public exception."""
        tree = docs_hooks.on_page_markdown("<!-- generated: errors -->")
        errors = {name for name in pracsuite_async.__all__ if name.endswith("Error")}
        assert errors <= set(re.findall(r"\b(\w+Error)\b", tree))
        assert "<!-- generated: errors -->" in (DOCS / "errors.md").read_text(encoding="utf-8")

    def test_unknown_generated_marker_fails_the_build(self) -> None:
        """A misspelt marker raises instead of leaving a hole in the page."""
        with pytest.raises(KeyError):
            docs_hooks.on_page_markdown("<!-- generated: operation -->")

    def test_sphinx_roles_render_as_code(self) -> None:
        """Docstrings' Sphinx roles become code (``~`` keeps the last name) and a ``::`` intro a colon."""
        html = "<p>See :class:<code>~pracsuite_async.Pager</code> and :mod:<code>pracsuite_async.sync</code>::</p>"
        assert docs_hooks.on_page_content(html) == (
            "<p>See <code>Pager</code> and <code>pracsuite_async.sync</code>:</p>"
        )
