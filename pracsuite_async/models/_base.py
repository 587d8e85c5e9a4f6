"""Base class of every response model."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.define(slots=True)
class Model:
    """Base of every response model.

    Fields the spec does not know are kept in ``extra`` (never dropped, never an
    error) and written back out unchanged, so a new server field never breaks a user.
    ``extra`` is left out of ``repr`` because it may hold patient data.
    """

    extra: dict[str, Any] = attrs.field(factory=dict, repr=False, kw_only=True)
