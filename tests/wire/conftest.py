"""aioresponses compatibility with aiohttp >= 3.14.

aioresponses 0.7.9 (the newest release) builds ``ClientResponse`` objects without
the ``stream_writer`` argument that aiohttp 3.14 made mandatory; this shim supplies
a stub so the wire tests run against the aiohttp version users get.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import aiohttp
import aioresponses.core
import pytest


class _CompatResponse(aiohttp.ClientResponse):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", mock.Mock(output_size=0))
        super().__init__(*args, **kwargs)


@pytest.fixture(autouse=True)
def _aioresponses_compat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let aioresponses build responses for aiohttp 3.14."""
    monkeypatch.setattr(aioresponses.core, "ClientResponse", _CompatResponse)
