"""``python -m pracsuite_async.simulator``: run the simulator until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Sequence
from datetime import date

from pracsuite_async.simulator._app import serve
from pracsuite_async.simulator._config import DEFAULT_ACCOUNT_KEY, DEFAULT_VENDOR_KEY, SimulatorConfig
from pracsuite_async.simulator._disagree import ORDERS, SORT_WIRES


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = argparse.ArgumentParser(prog="python -m pracsuite_async.simulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed on start)")
    p.add_argument("--records", type=int, default=2000, help="number of appointments to generate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--today", type=date.fromisoformat, default=None, help="tenant's today, yyyy-mm-dd")
    p.add_argument("--rate", type=float, default=None, help="requests/s per vendor key (default unlimited)")
    p.add_argument("--burst", type=int, default=5, help="token bucket capacity")
    p.add_argument("--daily-quota", type=int, default=None)
    p.add_argument("--retry-after-format", choices=("seconds", "http-date"), default="seconds")
    p.add_argument("--rate-limit-headers", action="store_true", help="send X-RateLimit-* headers")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added after admission")
    p.add_argument("--latency-jitter", type=float, default=0.0)
    p.add_argument(
        "--faults", default="", help="e.g. 500:0.05,503ra:0.02,reset:0.02,trunc:0.01,badjson:0.005"
    )
    p.add_argument("--slow-seconds", type=float, default=2.0)
    p.add_argument("--vendor-key", action="append", dest="vendor_keys", help=f"default {DEFAULT_VENDOR_KEY}")
    p.add_argument(
        "--account-key", action="append", dest="account_keys", help=f"default {DEFAULT_ACCOUNT_KEY}"
    )
    p.add_argument("--accept-any-key", action="store_true")
    p.add_argument("--base-path", default="/v1")
    p.add_argument("--prewarm", action="store_true", help="encode every record at start-up")
    g = p.add_argument_group("disagreeing with the client", "behave as a real server might")
    g.add_argument("--order", choices=ORDERS, default="id", help="record order when no sort applies")
    g.add_argument("--ignore-sort", action="store_true", help="ignore sort_by")
    g.add_argument("--sort-wire", choices=SORT_WIRES, default="any", help="json: 400 for comma-form sort_by")
    g.add_argument("--ignore-page", action="store_true", help="answer every page with the first")
    g.add_argument("--app-time-z", action="store_true", help="send app_time with a trailing Z")
    g.add_argument("--omit-optional", action="store_true", help="leave out null and some optional fields")
    g.add_argument("--unknown-fields", action="store_true", help="add a field no spec version has")
    return p


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """Translate parsed arguments into a :class:`SimulatorConfig`."""
    extra = {}
    if args.today is not None:
        extra["today"] = args.today
    if args.vendor_keys:
        extra["vendor_keys"] = tuple(args.vendor_keys)
    if args.account_keys:
        extra["account_keys"] = tuple(args.account_keys)
    return SimulatorConfig(
        seed=args.seed,
        records=args.records,
        rate=args.rate,
        burst=args.burst,
        daily_quota=args.daily_quota,
        retry_after_format=args.retry_after_format,
        rate_limit_headers=args.rate_limit_headers,
        latency=args.latency,
        latency_jitter=args.latency_jitter,
        faults=args.faults,
        slow_seconds=args.slow_seconds,
        accept_any_key=args.accept_any_key,
        prewarm=args.prewarm,
        base_path=args.base_path,
        order=args.order,
        ignore_sort=args.ignore_sort,
        sort_wire=args.sort_wire,
        ignore_page=args.ignore_page,
        app_time_z=args.app_time_z,
        omit_optional=args.omit_optional,
        unknown_fields=args.unknown_fields,
        **extra,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Parse ``argv`` and serve until Ctrl-C."""
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config, host=args.host, port=args.port))


if __name__ == "__main__":
    main()
