"""The JSON decoder every response goes through: orjson when installed, else the standard library.

A leaf module, so the converter (which interns wire keys with it) and the response
layer share one decoder without importing each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["loads"]

loads: Callable[[bytes], Any]
try:  # orjson is an optional accelerator; results are identical.
    from orjson import loads
except ImportError:  # pragma: no cover - exercised when orjson is absent
    loads = json.loads
