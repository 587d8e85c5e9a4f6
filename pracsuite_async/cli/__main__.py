"""``python -m pracsuite_async.cli``: the same as the ``pracsuite`` console script."""

from pracsuite_async.cli import main

main()
