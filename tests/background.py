"""A simulator served from a thread, for tests that run code calling ``asyncio.run`` themselves."""

from __future__ import annotations

import asyncio
import threading

from pracsuite_async.simulator import Simulator, SimulatorConfig


class BackgroundSimulator:
    """A simulator served by its own event loop in a thread (``with BackgroundSimulator(config) as sim``)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._config = config
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.simulator: Simulator | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with Simulator(self._config) as simulator:
            self.simulator = simulator
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> Simulator:
        self._thread.start()
        assert self._ready.wait(30), "simulator did not start"
        assert self.simulator is not None
        return self.simulator

    def __exit__(self, *exc_info: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
