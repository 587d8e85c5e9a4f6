"""Walk modes side by side: ordered and unordered ``list()`` walks against a worker fan-out.

Not part of ``python -m benchmarks`` (case 2 (iii) is the suite's row); a quick check
of the Pager's client CPU per page against 64 tasks calling ``Pipeline.call``, the
same page server and the same client, in interleaved short rounds::

    python -m benchmarks.walks [ROUNDS] [PAGES]

It prints the median client CPU per page of each mode and the median of the per-round
ratios to the fan-out. ``--bookkeeping`` measures the Pager alone instead: a fetcher
that answers at once with ready pages, against the same fetcher called by plain
workers (run it under ``valgrind --tool=callgrind`` for instruction counts that
do not depend on the machine's neighbours).
"""

from __future__ import annotations

import asyncio
import operator
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

from benchmarks._servers import ServerProcess, ServerSpec, cores, pin, unpin
from benchmarks.overhead import PAGE_SIZE, TASKS, _fan_out
from pracsuite_async import OPERATIONS, PracSuiteClient
from pracsuite_async._pagination import Page, PageFetcher, Pager
from pracsuite_async._wire import build_request


async def _walks(rounds: int, count: int) -> None:
    server_core, client_core = cores()
    previous = pin(client_core)
    try:
        with ServerProcess(ServerSpec("pages", total=count * PAGE_SIZE, core=server_core)) as server:
            client = PracSuiteClient(
                "k", "k", base_url=server.base_url, rate_limit=1e6, max_concurrency=TASKS, page_window=TASKS,
            )
            endpoint = OPERATIONS["listAppointments"]

            async def walk(ordered: bool) -> None:
                seen = 0
                limit = count * PAGE_SIZE
                pages = client.appointments.list(page_size=PAGE_SIZE, max_items=limit, ordered=ordered)
                async for page in pages.pages():
                    seen += len(page.items)
                assert seen == count * PAGE_SIZE, seen

            async def get(page: int) -> None:
                req = build_request(endpoint, {}, page=page, page_size=PAGE_SIZE)
                body = await client._pipeline.call(req, deadline=None, idempotent=None)
                assert len(body.items) == PAGE_SIZE

            modes: dict[str, Callable[[], Awaitable[None]]] = {
                "fan-out": lambda: _fan_out(count, get),
                "ordered": lambda: walk(True),
                "unordered": lambda: walk(False),
            }
            cpu = await _interleave(modes, rounds, count)
            await client.aclose()
    finally:
        unpin(previous)
    _report(cpu, "fan-out")


class _Item:
    __slots__ = ("id",)

    def __init__(self, n: int) -> None:
        self.id = n


def ready_pages(count: int) -> PageFetcher[_Item]:
    """A fetcher answering at once (one loop iteration) with ready pages 1..count of PAGE_SIZE items.

    Each page reports the total and links to the next, as the page server does, so the
    walk plans every page from page 1 on (with links alone it could only go one by one).
    """
    ready = {
        n: Page(n, [_Item((n - 1) * PAGE_SIZE + i) for i in range(PAGE_SIZE)], count * PAGE_SIZE, n < count)
        for n in range(1, count + 1)
    }

    async def fetch(number: int, size: int) -> Page[_Item]:
        await asyncio.sleep(0)
        return ready[number]

    return fetch


async def walk_alone(fetch: PageFetcher[_Item], count: int) -> None:
    """``count`` pages through the Pager alone, 64 in flight, with its dedupe key."""
    key = operator.attrgetter("id")
    walk = Pager(fetch, page_size=PAGE_SIZE, window=TASKS, key=key, max_items=count * PAGE_SIZE)
    async for _ in walk.pages():
        pass


async def _bookkeeping(rounds: int, count: int) -> None:
    fetch = ready_pages(count)

    async def get(page: int) -> None:
        await fetch(page, PAGE_SIZE)

    modes = {"fan-out": lambda: _fan_out(count, get), "Pager": lambda: walk_alone(fetch, count)}
    cpu = await _interleave(modes, rounds, count)
    _report(cpu, "fan-out")


async def _interleave(
    modes: dict[str, Callable[[], Awaitable[None]]], rounds: int, count: int
) -> dict[str, list[float]]:
    for run in modes.values():  # warm-up: connections, generated hooks
        await run()
    cpu: dict[str, list[float]] = {name: [] for name in modes}
    names = list(modes)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            started = time.process_time()
            await modes[name]()
            cpu[name].append((time.process_time() - started) / count * 1e6)
    return cpu


def _report(cpu: dict[str, list[float]], base: str) -> None:
    for name, values in cpu.items():
        ratios = [v / b for v, b in zip(values, cpu[base], strict=True)]
        print(
            f"{name:>10}: client CPU {statistics.median(values):6.1f} µs/page, "
            f"÷ {base} {statistics.median(ratios):.3f} [{min(ratios):.3f}, {max(ratios):.3f}]"
        )


def main(argv: list[str]) -> None:
    """``python -m benchmarks.walks [--bookkeeping] [ROUNDS] [PAGES]``."""
    bookkeeping = "--bookkeeping" in argv
    args = [int(a) for a in argv if a != "--bookkeeping"]
    rounds = args[0] if args else 9
    count = args[1] if len(args) > 1 else 500
    asyncio.run(_bookkeeping(rounds, count) if bookkeeping else _walks(rounds, count))


if __name__ == "__main__":
    main(sys.argv[1:])
