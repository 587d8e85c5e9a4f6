"""Loopback servers in their own process: a bare page server and the bundled simulator.

A server sharing the client's process and core would charge its CPU to the client
and steal its event loop, so each runs in a child process pinned to its own core
(when there are two). The child binds ``127.0.0.1:0`` and reports the base URL
through a pipe (its stdout); a small thread in the child answers CPU-time queries
on its stdin, so the parent can tell when a row is server-bound without touching
the server's event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import attrs

__all__ = ["ServerProcess", "ServerSpec", "cores", "pin", "unpin"]

_READY_TIMEOUT = 120.0  # the simulator generates its dataset before it listens
_REPO = Path(__file__).resolve().parent.parent


def cores() -> tuple[int | None, int | None]:
    """(server core, client core), or ``(None, None)`` when pinning is unavailable or pointless."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    return available[0], available[1]


def pin(core: int | None) -> set[int] | None:
    """Pin this process to ``core``; return the previous affinity (to restore), or ``None``."""
    if core is None or not hasattr(os, "sched_setaffinity"):
        return None
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    return previous


def unpin(previous: set[int] | None) -> None:
    """Undo :func:`pin`."""
    if previous is not None:
        os.sched_setaffinity(0, previous)


@attrs.frozen
class ServerSpec:
    """What to serve.

    ``pages``: ``GET <base>/appointment?page=&page_size=`` from a :class:`~benchmarks._data.PageTemplate`
    of ``total`` records in ``shape``, after ``latency`` seconds, for any path and any keys.
    ``simulator``: :class:`pracsuite_async.simulator.Simulator` with ``SimulatorConfig(**sim)``.
    """

    kind: Literal["pages", "simulator"]
    total: int = 0
    latency: float = 0.0
    sim: dict[str, Any] = attrs.field(factory=dict)
    core: int | None = None
    shape: str = "exact"


class ServerProcess:
    """A server child process: ``with ServerProcess(spec) as server: server.base_url``.

    The child is ``python -m benchmarks._servers SPEC-JSON`` rather than a
    ``multiprocessing`` child, so it never re-imports the caller's ``__main__``
    (a pytest run, a script without a main guard). It prints ``ready <base_url>``,
    then answers ``cpu`` on stdin with its CPU seconds and exits on ``stop`` or EOF.
    """

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        self.base_url = ""
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self._process = process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._servers", json.dumps(attrs.asdict(self.spec))],
            # Unbuffered, so select() on the pipe sees every line the child writes.
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, cwd=_REPO,
        )
        line = _readline(process, _READY_TIMEOUT)
        if not line.startswith("ready "):
            self._stop()
            msg = f"{self.spec.kind} server failed to start (exit code {process.returncode}); see stderr"
            raise RuntimeError(msg)
        self.base_url = line.split(" ", 1)[1].strip()
        return self

    def cpu_seconds(self) -> float:
        """CPU seconds the server process has used so far."""
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(b"cpu\n")
        return float(_readline(self._process, 10.0))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        try:
            if process.stdin is not None:
                process.stdin.close()  # EOF: the child stops serving and exits
            process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()


def _readline(process: subprocess.Popen[bytes], timeout: float) -> str:
    """One line of the child's stdout, or ``""`` if it exits or stays silent for ``timeout`` s."""
    assert process.stdout is not None
    if not select.select([process.stdout], [], [], timeout)[0]:
        return ""
    return process.stdout.readline().decode()


# -- the child ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Child entry point: serve ``SPEC-JSON`` until stdin says ``stop`` or closes."""
    spec = ServerSpec(**json.loads((argv if argv is not None else sys.argv[1:])[0]))
    pin(spec.core)
    asyncio.run(_serve(spec))


async def _serve(spec: ServerSpec) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def control() -> None:
        # Blocking reads of stdin stay off the event loop, which keeps serving.
        for command in sys.stdin:
            if command.strip() != "cpu":
                break
            print(time.process_time(), flush=True)
        loop.call_soon_threadsafe(stop.set)

    def ready(base_url: str) -> None:
        print(f"ready {base_url}", flush=True)
        threading.Thread(target=control, name="bench-control", daemon=True).start()

    if spec.kind == "pages":
        await _serve_pages(spec, ready, stop)
    else:
        await _serve_simulator(spec, ready, stop)


async def _serve_pages(spec: ServerSpec, ready: Callable[[str], None], stop: asyncio.Event) -> None:
    from aiohttp import web  # noqa: PLC0415 - imported in the child only

    from benchmarks._data import PageTemplate  # noqa: PLC0415

    template = PageTemplate(spec.total, shape=spec.shape)
    latency = spec.latency

    async def handler(request: web.BaseRequest) -> web.Response:
        query = request.query
        body = template.body(int(query.get("page", "1")), int(query.get("page_size", "50")))
        if latency:
            await asyncio.sleep(latency)
        return web.Response(body=body, content_type="application/json")

    # The low-level server: no router or middleware, so the server stays cheap.
    runner = web.ServerRunner(web.Server(handler), handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        ready(f"http://{host}:{port}/v1")
        await stop.wait()
    finally:
        await runner.cleanup()


async def _serve_simulator(spec: ServerSpec, ready: Callable[[str], None], stop: asyncio.Event) -> None:
    from pracsuite_async.simulator import Simulator, SimulatorConfig  # noqa: PLC0415

    async with Simulator(SimulatorConfig(**spec.sim)) as sim:
        ready(sim.base_url)
        await stop.wait()


if __name__ == "__main__":
    main()
