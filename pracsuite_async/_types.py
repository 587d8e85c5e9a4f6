"""Shared type aliases and the ``UNSET`` sentinel.

``UNSET`` marks "the caller did not give this field": it is never sent, which is
different from ``None`` (sent as JSON ``null``, meaningful for tri-state fields
such as ``accepted_privacy_policy``).
"""

from __future__ import annotations

import enum
import math
from typing import Final, Literal, TypeAlias


class UnsetType(enum.Enum):
    """Type of :data:`UNSET`; a one-member enum so ``x is UNSET`` narrows for mypy."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> Literal[False]:
        return False


UNSET: Final = UnsetType.UNSET

HTTPMethod: TypeAlias = Literal["GET", "POST", "PATCH", "PUT", "DELETE"]
JSON: TypeAlias = "dict[str, JSON] | list[JSON] | str | int | float | bool | None"
QueryParams: TypeAlias = "list[tuple[str, str]]"


def is_seconds(value: object) -> bool:
    """Whether ``value`` is a finite positive number of seconds (a ``bool`` is not).

    The one rule for every ``deadline``/``timeout`` setting and per-call option.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value > 0
