"""mkdocs hook: replaces ``<!-- generated: NAME -->`` lines of docs pages with text built from the code.

* ``operations``: one table row per operation of ``pracsuite_async.OPERATIONS``, by namespace.
* ``errors``: the exception tree drawn in the docstring of ``pracsuite_async._errors``.

It also tidies the API reference: the library's docstrings are written for Sphinx
(``:class:`~pracsuite_async.Pager```, a paragraph ending in ``::`` before a code
block), which Markdown would show verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pracsuite_async
from pracsuite_async import _errors

_MARKER = re.compile(r"^<!-- generated: (\w+) -->$", re.MULTILINE)
# A Sphinx role as Markdown renders it: :class:<code>~pracsuite_async.Pager</code>.
_ROLE = re.compile(r":(?:class|meth|func|mod|data|attr|exc|obj):<code>(~?)([\w.]+)</code>")


def operations_table() -> str:
    """Every operation as a Markdown table row: namespace, method, HTTP, path, summary."""
    rows = ["| Namespace | Method | HTTP | Path | Summary |", "|---|---|---|---|---|"]
    ops = sorted(pracsuite_async.OPERATIONS.values(), key=lambda e: (e.namespace, e.method_name))
    for e in ops:
        name = f"`{e.method_name}`" + (" (walk)" if e.paginated else "")
        rows.append(f"| `{e.namespace}` | {name} | {e.method} | `{e.path}` | {e.summary} |")
    return "\n".join(rows)


def error_tree() -> str:
    """The tree block of the ``_errors`` module docstring, as a fenced block."""
    doc = _errors.__doc__ or ""
    tree = doc.split("::", 1)[1].split("\n\n")[1]
    lines = [line.removeprefix("    ") for line in tree.splitlines()]
    return "```text\n" + "\n".join(lines) + "\n```"


GENERATORS: dict[str, Callable[[], str]] = {"operations": operations_table, "errors": error_tree}


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Fill each marker; an unknown one fails the build."""
    return _MARKER.sub(lambda m: GENERATORS[m.group(1)](), markdown)


def on_page_content(html: str, **_: Any) -> str:
    """Show Sphinx roles as code (``~`` keeps the last name only) and ``::`` as a colon."""
    html = _ROLE.sub(lambda m: f"<code>{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}</code>", html)
    return html.replace("::</p>", ":</p>")
