"""Case 2: what the client costs per request over raw aiohttp, with nothing else in the way.

No rate limit, 64 (and, for the full client, also 16) concurrent requests, rounds of
2,000 GETs (nine measured rounds per contender) of a 50-record appointment page from
the bare page server (pre-encoded bodies, so the server is not the bottleneck).

* (i) the full client: one ``client.appointments.list(page_size=50)`` walk with a
  64-page window (limiter, retry policy, pagination, attrs models) against 64
  tasks of raw aiohttp calling ``resp.json()`` and building no models.
* (iii) the ordered Pager against a plain worker fan-out doing the same work: 64
  tasks calling ``Pipeline.call`` on the list endpoint, models included. The ratio
  is client CPU per page (the Pager's bookkeeping, ordering and dedupe), target
  within 15 %.
* (ii) the pipeline alone (slot, limiter, send, the response path with orjson; no
  models: an endpoint row without a result model): 64 tasks calling ``Pipeline.call``
  against 64 tasks of raw aiohttp with ``orjson.loads(await resp.read())``.

Both ratios are requests/s of ours over the baseline in the same round. (i) runs on
both record shapes (``benchmarks._data.SHAPES``); (ii) does not read records, so it
and (iii) run once, on spec-exact pages.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable

import aiohttp
import attrs
import orjson

from benchmarks._data import SHAPES
from benchmarks._harness import (
    Meter,
    Row,
    Sample,
    Stat,
    SuiteConfig,
    Target,
    interleave,
    max_share,
    ratio_stat,
)
from benchmarks._servers import ServerProcess, ServerSpec
from pracsuite_async import OPERATIONS, PracSuiteClient
from pracsuite_async._wire import build_request

__all__ = ["run"]

TASKS = 64
PAGE_SIZE = 50
KEYS = {"x-api-key": "sim-vendor-key", "A-api-key": "sim-account-key", "Accept": "application/json"}
#: A limit far above anything loopback reaches: the limiter runs but never waits.
NO_LIMIT = 1e6


#: Measured rounds per suite round (see ``_run``).
ROUND_FACTOR = 3
#: In-flight counts the full-client row is reported at (issue #9: 16 and 64).
IN_FLIGHT = (64, 16)


async def _fan_out(count: int, request: Callable[[int], Awaitable[object]], tasks: int = TASKS) -> None:
    pages = iter(range(1, count + 1))

    async def worker() -> None:
        for page in pages:  # the shared iterator hands each page to exactly one task
            await request(page)

    await asyncio.gather(*(worker() for _ in range(tasks)))


class _GCCount:
    """Collections per generation while it is on (``gc.callbacks``); reads, never tunes, the collector."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            self.counts[info["generation"]] += 1

    def __enter__(self) -> _GCCount:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def run(cfg: SuiteConfig) -> list[Row]:
    """Measure the ratios; one server per record shape and in-flight count for all its rounds."""
    return [row for shape in SHAPES for tasks in IN_FLIGHT for row in asyncio.run(_run(cfg, shape, tasks))]


async def _run(cfg: SuiteConfig, shape: str, tasks: int) -> list[Row]:
    # Short rounds, three times as many: this VM's neighbours steal CPU in bursts of
    # seconds, and a median over nine ~2-s rounds per contender is far steadier than
    # over three ~5-s ones (the spread of row iii was 1.10-1.55 with three).
    count = cfg.scale(2000, 50)
    rounds = ROUND_FACTOR * cfg.n_rounds
    with_pipeline = shape == SHAPES[0] and tasks == TASKS
    spec = ServerSpec("pages", total=count * PAGE_SIZE, core=cfg.server_core, shape=shape)
    with ServerProcess(spec) as server:
        url = f"{server.base_url}/appointment"
        session = aiohttp.ClientSession()
        client = PracSuiteClient(
            "sim-vendor-key", "sim-account-key", base_url=server.base_url,
            rate_limit=NO_LIMIT, max_concurrency=tasks, page_window=tasks,
        )
        # Case (ii) measures the pipeline without the models: the same row without a result model.
        endpoint = OPERATIONS["listAppointments"]
        no_models = attrs.evolve(endpoint, result=None)
        pipeline = client._pipeline

        async def raw(decode: Callable[[aiohttp.ClientResponse], Awaitable[object]], n: int) -> Sample:
            async def get(page: int) -> None:
                params = {"page": page, "page_size": PAGE_SIZE}
                async with session.get(url, params=params, headers=KEYS) as resp:
                    resp.raise_for_status()
                    await decode(resp)

            meter = Meter(server.cpu_seconds)
            await _fan_out(n, get, tasks)
            return meter.stop(n)

        async def as_json(resp: aiohttp.ClientResponse) -> object:
            return await resp.json()

        async def as_orjson(resp: aiohttp.ClientResponse) -> object:
            return orjson.loads(await resp.read())

        gc_counts: dict[str, list[int]] = {}

        async def full_client(n: int) -> Sample:
            meter = Meter(server.cpu_seconds)
            records = 0
            walk = client.appointments.list(page_size=PAGE_SIZE, max_items=n * PAGE_SIZE)
            with _GCCount() as collections:
                async for page in walk.pages():
                    records += len(page.items)
            sample = meter.stop(n)
            gc_counts["full"] = collections.counts
            # Every record arrived as a model: the walk did the whole job.
            assert records == n * PAGE_SIZE, records
            return sample

        async def pipeline_only(n: int) -> Sample:
            async def get(page: int) -> None:
                req = build_request(endpoint, {}, page=page, page_size=PAGE_SIZE)
                req = attrs.evolve(req, endpoint=no_models)
                await pipeline.call(req, deadline=None, idempotent=None)

            meter = Meter(server.cpu_seconds)
            await _fan_out(n, get)
            return meter.stop(n)

        async def fan_out_models(n: int) -> Sample:
            records = 0

            async def get(page: int) -> None:
                nonlocal records
                req = build_request(endpoint, {}, page=page, page_size=PAGE_SIZE)
                body = await pipeline.call(req, deadline=None, idempotent=None)
                records += len(body.items)

            meter = Meter(server.cpu_seconds)
            with _GCCount() as collections:
                await _fan_out(n, get)
            sample = meter.stop(n)
            gc_counts["fan_out"] = collections.counts
            assert records == n * PAGE_SIZE, records
            return sample

        contenders: dict[str, Callable[[int], Awaitable[Sample]]] = {
            "raw_json": lambda n: raw(as_json, n),
            "full": full_client,
        }
        if with_pipeline:
            contenders.update({
                "raw_orjson": lambda n: raw(as_orjson, n),
                "pipeline": pipeline_only,
                "fan_out": fan_out_models,
            })
        try:
            warmup = cfg.scale(500, 10)
            results = await interleave(contenders, rounds=rounds, count=count, warmup=warmup)
        finally:
            await client.aclose()
            await session.close()

    def detail(ours: list[Sample], base: list[Sample], what: str) -> str:
        # CPU per request is reported beside the rate: on a shared machine other
        # processes steal wall time from one round or another, not CPU time.
        med = Stat(tuple(s.rate for s in ours)).median
        ref = Stat(tuple(s.rate for s in base)).median
        cpu, cpu_ref = Stat(tuple(s.cpu_us for s in ours)).median, Stat(tuple(s.cpu_us for s in base)).median
        cpu_ratio = Stat(tuple(b.cpu / o.cpu for o, b in zip(ours, base, strict=True)))
        return (
            f"{count} GETs, {tasks} in flight ({what}); req/s {med:,.0f} vs {ref:,.0f}; "
            f"client CPU/req {cpu:.0f} µs vs {cpu_ref:.0f} µs, CPU ratio baseline ÷ ours {cpu_ratio}"
        )

    full, base_i = results["full"], results["raw_json"]
    rows = [
        Row(
            "2 overhead (i)",
            f"full client ÷ aiohttp + resp.json(), req/s, {shape} records, {tasks} in flight",
            ratio_stat(full, base_i), Target(">=", 1.0 if shape == "exact" else 0.8),
            detail(full, base_i, "list() walk, models vs dicts"), max_share(full, base_i),
        ),
    ]
    if not with_pipeline:
        return rows
    pipe, base_ii = results["pipeline"], results["raw_orjson"]
    fan = results["fan_out"]
    cpu_pages = Stat(tuple(o.cpu / b.cpu for o, b in zip(full, fan, strict=True)))
    return [
        *rows,
        Row(
            "2 overhead (ii)", "pipeline, no models ÷ aiohttp + orjson, req/s",
            ratio_stat(pipe, base_ii), Target(">=", 0.95),
            detail(pipe, base_ii, "Pipeline.call"), max_share(pipe, base_ii),
        ),
        Row(
            "2 overhead (iii)", "ordered Pager ÷ worker fan-out, client CPU per page",
            cpu_pages, Target("<=", 1.15),
            f"wall ratio fan-out ÷ Pager {ratio_stat(full, fan)}; "
            + detail(full, fan, "list() walk vs Pipeline.call")
            + f"; GC collections (gen 0/1/2) in the last round: Pager {_gens(gc_counts['full'])}, "
            f"fan-out {_gens(gc_counts['fan_out'])}",
            max_share(full, fan),
        ),
    ]


def _gens(counts: list[int]) -> str:
    return "/".join(map(str, counts))
