"""Shared type aliases and the ``UNSET`` sentinel.

``UNSET`` marks "the caller did not give this field": it is never sent, which is
different from ``None`` (sent as JSON ``null``, meaningful for tri-state fields
such as ``accepted_privacy_policy``).
"""

from __future__ import annotations

import enum
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
