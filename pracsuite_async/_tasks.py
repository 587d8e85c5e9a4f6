"""Ending tasks of our own: cancel them, wait for them, retrieve what they raised."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

__all__ = ["cancel_and_wait"]


async def cancel_and_wait(tasks: Collection[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and return once every one has finished.

    A failure a task raised meanwhile is marked retrieved, so asyncio logs none as
    lost; whoever awaits the task later still gets it.
    """
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
        for task in tasks:
            if not task.cancelled():
                task.exception()
