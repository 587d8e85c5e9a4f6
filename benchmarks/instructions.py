"""A fixed workload to count instructions with, where CPU time is too noisy to compare.

Not part of ``python -m benchmarks``. Run it under valgrind (``apt-get install
valgrind``) twice, with N pages and with 0, and divide the difference by N::

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python -m benchmarks.instructions MODE N

MODE is one of:

* ``ordered``: an ordered ``client.appointments.list()`` walk of N 50-record pages
  from the bare page server (a separate process, so not counted), 64 in flight;
* ``fan-out``: the same pages by 64 tasks calling ``Pipeline.call`` (row (iii)'s
  baseline);
* ``pager``: the Pager alone, with its dedupe key, over a fetcher that answers at once
  with ready pages;
* ``bare``: the same fetcher called by 64 plain tasks.

valgrind prints ``Collected : <instructions>``. Counting starts after a full
collection; the collections the workload itself triggers are counted, and printed per
generation to stderr. The counts move by well under 1 % between runs, where CPU time on
a shared machine moves by tens of percent.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Awaitable, Callable

from benchmarks._servers import ServerProcess, ServerSpec
from benchmarks.overhead import PAGE_SIZE, TASKS, _fan_out
from benchmarks.walks import ready_pages, walk_alone
from pracsuite_async import OPERATIONS, PracSuiteClient
from pracsuite_async._wire import build_request

#: Pages walked before counting starts (connections, generated hooks, caches).
WARM_UP = 100
MODES = ("ordered", "fan-out", "pager", "bare")
#: Ready pages built for the bookkeeping modes, whatever N.
MAX_READY = 5000


async def _client_modes(mode: str, count: int) -> None:
    # One server size whatever N: the walk's plan (total_entries) is the same in both runs.
    with ServerProcess(ServerSpec("pages", total=(WARM_UP + MAX_READY) * PAGE_SIZE)) as server:
        client = PracSuiteClient(
            "k", "k", base_url=server.base_url, rate_limit=1e6, max_concurrency=TASKS, page_window=TASKS
        )
        endpoint = OPERATIONS["listAppointments"]

        async def walk(n: int) -> None:
            async for _ in client.appointments.list(page_size=PAGE_SIZE, max_items=n * PAGE_SIZE).pages():
                pass

        async def get(page: int) -> None:
            req = build_request(endpoint, {}, page=page, page_size=PAGE_SIZE)
            await client._pipeline.call(req, deadline=None, idempotent=None)

        run: Callable[[int], Awaitable[None]] = walk if mode == "ordered" else lambda n: _fan_out(n, get)
        await run(WARM_UP)
        await _counted(run, count)
        await client.aclose()


async def _bookkeeping_modes(mode: str, count: int) -> None:
    if count > MAX_READY:
        sys.exit(f"at most {MAX_READY} pages in the bookkeeping modes")
    # The same pages whatever N, so building them is not counted in the difference.
    fetch = ready_pages(WARM_UP + MAX_READY)

    async def get(page: int) -> None:
        await fetch(page, PAGE_SIZE)

    async def pager(n: int) -> None:
        await walk_alone(fetch, n)

    run: Callable[[int], Awaitable[None]] = pager if mode == "pager" else lambda n: _fan_out(n, get)
    await run(WARM_UP)
    await _counted(run, count)


async def _counted(run: Callable[[int], Awaitable[None]], count: int) -> None:
    collections = [0, 0, 0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collections[info["generation"]] += 1

    # From a clean heap: a full collection owed by the warm-up would land in one run
    # and not the other, tens of millions of instructions either way.
    gc.collect()
    gc.callbacks.append(callback)
    try:
        if count:
            await run(count)
    finally:
        gc.callbacks.remove(callback)
    print(f"garbage collections (gen 0/1/2): {'/'.join(map(str, collections))}", file=sys.stderr)


def main(argv: list[str]) -> None:
    """``python -m benchmarks.instructions MODE N``."""
    if len(argv) != 2 or argv[0] not in MODES or not argv[1].isdigit():
        sys.exit(f"usage: python -m benchmarks.instructions {{{','.join(MODES)}}} N")
    mode, count = argv[0], int(argv[1])
    asyncio.run(_client_modes(mode, count) if mode in MODES[:2] else _bookkeeping_modes(mode, count))


if __name__ == "__main__":
    main(sys.argv[1:])
