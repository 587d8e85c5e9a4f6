"""Ways the simulator can disagree with the client, as a real server might.

The API documents no default order, no sort direction and only a JSON-array
``sort_by`` (README "Sorting"); responses may carry ``app_time`` with a trailing
``Z``, omit optional fields or add new ones (README "Dates/times"). A simulator that
always agrees with the client cannot catch a client that relies on more than that,
so each of these is a :class:`~pracsuite_async.simulator.SimulatorConfig` option
(and a ``python -m pracsuite_async.simulator`` flag). All are off by default.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Literal

from pracsuite_async.simulator._http import dumps

__all__ = ["ORDERS", "SORT_WIRES", "Order", "SortWire", "reorder", "shaper"]

#: ``id``: ascending ids (the simulator's own habit); ``descending``: the reverse;
#: ``shuffled``: a stable pseudo-random order (a record keeps its rank across requests).
Order = Literal["id", "descending", "shuffled"]
ORDERS: tuple[Order, ...] = ("id", "descending", "shuffled")
#: ``any``: ``sort_by`` as a JSON array or comma-separated; ``json``: a JSON array only (400 otherwise).
SortWire = Literal["any", "json"]
SORT_WIRES: tuple[SortWire, ...] = ("any", "json")

#: Added to every record by ``unknown_fields``: a field no spec version has, with a nested object.
UNKNOWN_FIELD = "x_sim_unreleased"
UNKNOWN_VALUE: dict[str, Any] = {"nested": {"flag": True, "level": 2}}
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_LOCAL_FIELDS = ("app_time",)


def _rank(seed: int, rid: int) -> int:
    # A multiplicative hash: cheap, deterministic across runs (unlike hash() of str) and
    # independent of which other ids are in the list, so the order is stable across pages.
    return ((rid * 2654435761) ^ (seed * 40503 + 0x9E3779B9)) * 2246822519 % (1 << 32)


def reorder(ids: list[int], order: Order, seed: int) -> list[int]:
    """``ids`` (ascending) in the configured default order; a new list unless ``order`` is ``id``."""
    if order == "descending":
        return ids[::-1]
    if order == "shuffled":
        return sorted(ids, key=lambda rid: _rank(seed, rid))
    return ids


def _keep(name: str) -> bool:
    # Ids and links stay: every model reads its id as required.
    return name == "links" or name.endswith("_id") or name in ("row_num", "total_rows")


def shaper(
    *, app_time_z: bool, omit_optional: bool, unknown_fields: bool
) -> Callable[[int, str], str] | None:
    """A rewrite of one record's brace-less JSON text (see ``Table.members``), or ``None`` for none.

    ``app_time_z`` appends ``Z`` to tenant-local date-times; ``omit_optional`` drops
    null fields and, per record, every third other field that is not an id or
    ``links``; ``unknown_fields`` adds :data:`UNKNOWN_FIELD`.
    """
    if not (app_time_z or omit_optional or unknown_fields):
        return None

    def shape(rid: int, members: str) -> str:
        record: dict[str, Any] = json.loads("{" + members)
        if app_time_z:
            for name in _LOCAL_FIELDS:
                value = record.get(name)
                if isinstance(value, str) and _NAIVE.fullmatch(value):
                    record[name] = value + "Z"
        if omit_optional:
            record = {
                k: v
                for i, (k, v) in enumerate(record.items())
                if _keep(k) or (v is not None and (rid + i) % 3)
            }
        if unknown_fields:
            record[UNKNOWN_FIELD] = UNKNOWN_VALUE
        return dumps(record)[1:]

    return shape
