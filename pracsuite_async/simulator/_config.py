"""Simulator settings: one frozen value object plus the fault-schedule parser."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Literal

import attrs

from pracsuite_async.simulator._disagree import ORDERS, SORT_WIRES, Order, SortWire

DEFAULT_VENDOR_KEY = "sim-vendor-key"
DEFAULT_ACCOUNT_KEY = "sim-account-key"
DEFAULT_TODAY = date(2026, 1, 5)
DEFAULT_RECORDS = 2000
DEFAULT_BURST = 5
#: A reservation holds its slot this long (README "Booking flow": 15 minutes).
HOLD_SECONDS = 900.0

RetryAfterFormat = Literal["seconds", "http-date"]

#: Fault kinds that are not a bare 5xx status code.
NAMED_FAULTS = frozenset({"503ra", "reset", "trunc", "badjson", "slow"})
_FAULT_ITEM = re.compile(r"^\s*([0-9a-z]+)\s*:\s*([0-9]*\.?[0-9]+(?:e-?[0-9]+)?)\s*$")


def parse_faults(schedule: str) -> tuple[tuple[str, float], ...]:
    """Parse a fault schedule such as ``"500:0.05,503ra:0.02,reset:0.01"``.

    Each item is ``kind:probability``; kinds are a 5xx status code (``500``..``599``)
    or one of ``503ra``, ``reset``, ``trunc``, ``badjson``, ``slow``. The
    probabilities are per admitted request and must not add up to more than 1.

    Raises:
        ValueError: an item is malformed, a kind is unknown, or the sum exceeds 1.
    """
    items: list[tuple[str, float]] = []
    for raw in schedule.split(","):
        if not raw.strip():
            continue
        match = _FAULT_ITEM.match(raw)
        if match is None:
            msg = "fault schedule items must look like 'kind:probability'"
            raise ValueError(msg)
        kind, prob = match.group(1), float(match.group(2))
        is_5xx = kind.isdigit() and 500 <= int(kind) <= 599
        if not is_5xx and kind not in NAMED_FAULTS:
            msg = f"unknown fault kind {kind!r}; use a 5xx code or one of {sorted(NAMED_FAULTS)}"
            raise ValueError(msg)
        if not 0.0 <= prob <= 1.0:
            msg = "fault probabilities must lie in [0, 1]"
            raise ValueError(msg)
        items.append((kind, prob))
    if sum(p for _, p in items) > 1.0 + 1e-9:
        msg = "fault probabilities add up to more than 1"
        raise ValueError(msg)
    return tuple(items)


def _check_faults(_inst: object, _attr: object, value: str) -> None:
    parse_faults(value)


def _check_rate(_inst: object, _attr: object, value: float | None) -> None:
    if value is not None and not value > 0:
        msg = "rate must be positive (or None for unlimited)"
        raise ValueError(msg)


def _check_base_path(_inst: object, _attr: object, value: str) -> None:
    if value and (not value.startswith("/") or value.endswith("/") or value.startswith("/_")):
        msg = "base_path must be empty or start with '/' (not '/_') and not end with '/'"
        raise ValueError(msg)


def _optional_positive_int(_inst: object, attr: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and value < 0:
        msg = f"{attr.name} must be >= 0 or None"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class SimulatorConfig:
    """Everything that shapes one simulator instance; immutable (use ``attrs.evolve``).

    Data: ``seed`` and ``records`` (number of patient appointments; other entity
    counts scale from it) feed :func:`generate_dataset`; ``today`` is the tenant's
    current date (availability rejects earlier dates; generated data surrounds it).

    Admission: ``rate`` requests/second per vendor key with a token bucket of
    ``burst`` tokens that starts full (``None`` = unlimited); ``daily_quota``
    requests per vendor key per UTC day. A 429 carries ``Retry-After`` in
    ``retry_after_format``; ``rate_limit_headers`` adds ``X-RateLimit-*``.

    After admission: ``latency`` seconds (+ uniform ``latency_jitter``) of delay,
    then a seeded draw from the ``faults`` schedule (see :func:`parse_faults`);
    ``slow`` faults stall the body for ``slow_seconds`` and ``503ra`` answers
    carry ``Retry-After: fault_retry_after``.

    ``prewarm`` encodes every record at start-up (about 1 s per 100k appointments) so the
    first pass over a large dataset costs no more server CPU than later ones.

    Keys: ``vendor_keys`` (``x-api-key``) and ``account_keys`` (``A-api-key``), or
    any non-empty value when ``accept_any_key``. ``base_path`` prefixes API routes.

    Disagreeing with the client the way a real server might (all off by default; see
    ``_disagree``): ``order`` is the record order when no sort applies (``id``,
    ``descending`` or a stable ``shuffled``); ``ignore_sort`` ignores ``sort_by``;
    ``sort_wire="json"`` answers 400 to a comma-separated ``sort_by``; ``ignore_page``
    answers every page with the first; ``app_time_z`` sends ``app_time`` with a trailing
    ``Z``; ``omit_optional`` leaves out null and some other optional fields;
    ``unknown_fields`` adds a field no spec version has.

    Time seams for tests: ``clock`` (monotonic seconds; drives the token bucket,
    reservation holds and stats), ``wall_clock`` (epoch seconds; drives the daily
    quota, HTTP dates and new records' timestamps) and ``sleep`` (latency, stalls).
    """

    seed: int = 0
    records: int = attrs.field(default=DEFAULT_RECORDS, validator=attrs.validators.ge(1))
    rate: float | None = attrs.field(default=None, validator=_check_rate)
    burst: int = attrs.field(default=DEFAULT_BURST, validator=attrs.validators.ge(1))
    retry_after_format: RetryAfterFormat = attrs.field(
        default="seconds", validator=attrs.validators.in_(("seconds", "http-date"))
    )
    rate_limit_headers: bool = False
    daily_quota: int | None = attrs.field(default=None, validator=_optional_positive_int)
    latency: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))
    latency_jitter: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))
    faults: str = attrs.field(default="", validator=_check_faults)
    slow_seconds: float = attrs.field(default=2.0, validator=attrs.validators.ge(0.0))
    fault_retry_after: int = attrs.field(default=1, validator=attrs.validators.ge(0))
    vendor_keys: tuple[str, ...] = (DEFAULT_VENDOR_KEY,)
    account_keys: tuple[str, ...] = (DEFAULT_ACCOUNT_KEY,)
    accept_any_key: bool = False
    base_path: str = attrs.field(default="/v1", validator=_check_base_path)
    today: date = DEFAULT_TODAY
    hold_seconds: float = attrs.field(default=HOLD_SECONDS, validator=attrs.validators.gt(0.0))
    request_log_size: int = attrs.field(default=100_000, validator=attrs.validators.ge(0))
    prewarm: bool = False
    order: Order = attrs.field(default="id", validator=attrs.validators.in_(ORDERS))
    ignore_sort: bool = False
    sort_wire: SortWire = attrs.field(default="any", validator=attrs.validators.in_(SORT_WIRES))
    ignore_page: bool = False
    app_time_z: bool = False
    omit_optional: bool = False
    unknown_fields: bool = False
    clock: Callable[[], float] = attrs.field(default=time.monotonic, eq=False, repr=False)
    wall_clock: Callable[[], float] = attrs.field(default=time.time, eq=False, repr=False)
    sleep: Callable[[float], Awaitable[None]] = attrs.field(default=asyncio.sleep, eq=False, repr=False)

    @property
    def fault_schedule(self) -> tuple[tuple[str, float], ...]:
        """The parsed ``faults`` string as ``(kind, probability)`` pairs."""
        return parse_faults(self.faults)
