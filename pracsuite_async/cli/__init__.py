"""The ``pracsuite`` command: export data, serve the simulator, run the demo.

::

    pracsuite export appointments --out appointments.jsonl --since 2025-01-01T00:00:00Z
    pracsuite export patients --out patients.csv --filter 'status:=1'
    pracsuite simulator --port 8080 --records 100000 --rate 10
    pracsuite demo

click and rich are the optional ``cli`` extra (``pip install 'pracsuite-async[cli]'``);
they are imported only when the command runs, so the library never needs them.
Exit codes: 0 success, 1 other failure, 2 bad input, 3 authentication or permission
failure, 130 interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

_HINT = "pracsuite: the command-line tool needs click and rich: pip install 'pracsuite-async[cli]'\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``pracsuite`` command line (the console script's entry point).

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).
    """
    try:
        import click  # noqa: F401, PLC0415 - the optional extra, checked before anything else loads
        import rich  # noqa: F401, PLC0415
    except ImportError:
        sys.stderr.write(_HINT)
        raise SystemExit(2) from None
    from pracsuite_async.cli._app import app  # noqa: PLC0415 - imports click and rich

    app.main(args=list(argv) if argv is not None else None, prog_name="pracsuite")
