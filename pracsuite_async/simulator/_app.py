"""The aiohttp application: admission middleware, API routes, control routes, and the runner.

Per API request, in order: route (unknown path or method -> 403), keys (missing
-> 403, unknown -> 401), daily quota and token bucket (-> 429), then latency,
then a seeded fault draw, then the handler. Control routes (``/_stats``,
``/_reset``, ``/_config``) and the storage routes (``/_upload/``,
``/_download/``) skip all of that and are not counted.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from types import TracebackType
from typing import Any

from aiohttp import web

from pracsuite_async.simulator import _attachments
from pracsuite_async.simulator._config import SimulatorConfig
from pracsuite_async.simulator._data import Dataset
from pracsuite_async.simulator._faults import bad_json, is_pre_handler, reset, stall, truncate
from pracsuite_async.simulator._generate import generate_dataset
from pracsuite_async.simulator._handlers import Handler
from pracsuite_async.simulator._http import ApiError, error_response, json_value
from pracsuite_async.simulator._ratelimit import rate_limit_headers, retry_after_value
from pracsuite_async.simulator._routes import ROUTES, handlers
from pracsuite_async.simulator._state import STATE, SimState
from pracsuite_async.simulator._stats import SimulatorStats

_log = logging.getLogger("pracsuite_async.simulator")
_OPS: web.AppKey[dict[web.AbstractRoute, str]] = web.AppKey("pracsuite_simulator_ops", dict)
#: Settings ``POST /_config`` and :meth:`Simulator.reconfigure` may change while running.
RUNTIME_SETTINGS = frozenset(
    {
        "rate",
        "burst",
        "daily_quota",
        "latency",
        "latency_jitter",
        "faults",
        "slow_seconds",
        "retry_after_format",
        "rate_limit_headers",
        "fault_retry_after",
    }
)


def _missing_token() -> ApiError:
    return ApiError(403, "Authentication token is missing or the requested endpoint does not exist")


@web.middleware
async def _admission(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/_"):
        return await handler(request)
    st = request.app[STATE]
    op = request.app[_OPS].get(request.match_info.route, "unknown")
    try:
        status, response = await _serve_api(request, handler, st, op)
    except ConnectionError:
        # A client going away mid-request (Ctrl-C on an export, a client-side timeout)
        # is routine for a server: one line, not aiohttp's traceback. Status 0 counts
        # it with the other connections that got no response.
        _log.warning("client %s dropped the connection during %s (%s)", request.remote, op, request.method)
        status, response = 0, web.Response(status=499)
    st.stats.record(request.method, op, status)
    return response


async def _serve_api(
    request: web.Request, handler: Handler, st: SimState, op: str
) -> tuple[int, web.StreamResponse]:
    cfg = st.config
    if op == "unknown":
        return 403, error_response(_missing_token())
    vendor, account = request.headers.get("x-api-key"), request.headers.get("a-api-key")
    if not vendor or not account:
        return 403, error_response(_missing_token())
    if not cfg.accept_any_key and (vendor not in cfg.vendor_keys or account not in cfg.account_keys):
        return 401, error_response(ApiError(401, "Access could not be verified for this request."))
    now = cfg.clock()
    decision = st.limiter.admit(vendor, now)
    headers = rate_limit_headers(st.limiter, decision) if cfg.rate_limit_headers else {}
    if not decision.admitted:
        headers["Retry-After"] = retry_after_value(decision.wait, cfg.retry_after_format, cfg.wall_clock())
        detail = "Daily quota exhausted." if decision.quota else "Rate limit exceeded."
        code = "QUOTA_EXCEEDED" if decision.quota else "TOO_MANY_REQUESTS"
        return 429, error_response(ApiError(429, detail, code=code, headers=headers))
    st.stats.record_accepted(now)
    delay = cfg.latency + (st.jitter.uniform(0.0, cfg.latency_jitter) if cfg.latency_jitter else 0.0)
    if delay > 0:
        await cfg.sleep(delay)
    kind = st.faults.draw()
    if kind is not None:
        st.stats.record_fault(kind)
        if is_pre_handler(kind):
            return _pre_handler_fault(request, kind, cfg, headers)
    response = await _call(request, handler)
    response.headers.update(headers)
    if kind == "trunc":
        return response.status, await truncate(request, response)
    if kind == "badjson":
        faulty = bad_json(response)
        faulty.headers.update(headers)
        return faulty.status, faulty
    if kind == "slow":
        return response.status, await stall(request, response, cfg.slow_seconds, cfg.sleep)
    return response.status, response


def _pre_handler_fault(
    request: web.Request, kind: str, cfg: SimulatorConfig, headers: dict[str, str]
) -> tuple[int, web.StreamResponse]:
    if kind == "reset":
        return 0, reset(request)
    if kind == "503ra":
        headers = headers | {"Retry-After": str(cfg.fault_retry_after)}
        return 503, error_response(ApiError(503, "Service temporarily unavailable.", headers=headers))
    status = int(kind)
    return status, error_response(
        ApiError(
            status,
            "An unexpected error occurred while processing your request.",
            code="SERVER_ERROR",
            headers=headers,
        )
    )


async def _call(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err)
    except ConnectionError:  # the client left while its request body was read: not a handler bug
        raise
    except web.HTTPException as exc:  # e.g. a body over aiohttp's client_max_size
        return error_response(ApiError(exc.status, exc.reason))
    except Exception:  # noqa: BLE001  a simulator bug must still answer like the API does (500 envelope)
        _log.exception("simulator handler failed for %s %s", request.method, request.path)
        return error_response(ApiError(500, "An unexpected error occurred while processing your request."))


async def _stats_route(request: web.Request) -> web.StreamResponse:
    st = request.app[STATE]
    return json_value(st.stats.to_dict() | {"config": _runtime(st.config)})


async def _reset_route(request: web.Request) -> web.StreamResponse:
    st = request.app[STATE]
    st.stats.reset()
    st.limiter.reset()
    return json_value({"reset": True, "config": _runtime(st.config)})


async def _config_route(request: web.Request) -> web.StreamResponse:
    st = request.app[STATE]
    try:
        changes = await request.json()
        if not isinstance(changes, dict) or not set(changes) <= RUNTIME_SETTINGS:
            msg = f"send a JSON object with any of {sorted(RUNTIME_SETTINGS)}"
            raise TypeError(msg)  # noqa: TRY301  one error path for every kind of bad input
        config = st.reconfigure(**changes)
    except (ValueError, TypeError) as exc:
        return json_value({"error": str(exc)}, 400)
    return json_value({"config": _runtime(config)})


def _runtime(config: SimulatorConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in sorted(RUNTIME_SETTINGS)}


def create_app(config: SimulatorConfig | None = None, *, dataset: Dataset | None = None) -> web.Application:
    """Build the simulator as an aiohttp application (generates the dataset unless one is given).

    The app's live state is reachable through :class:`Simulator`, or via the
    control routes ``GET /_stats``, ``POST /_reset`` and ``POST /_config``.
    """
    cfg = config or SimulatorConfig()
    data = dataset or generate_dataset(cfg.seed, cfg.records, today=cfg.today)
    app = web.Application(middlewares=[_admission])
    app[STATE] = SimState(cfg, data)
    ops: dict[web.AbstractRoute, str] = {}
    table = handlers()
    for op, method, path in ROUTES:
        route = app.router.add_route(method, cfg.base_path + path, table[op])
        ops[route] = op
    app[_OPS] = ops
    app.router.add_get("/_stats", _stats_route, allow_head=False)
    app.router.add_post("/_reset", _reset_route)
    app.router.add_post("/_config", _config_route)
    app.router.add_post(_attachments.UPLOAD_PATH, _attachments.storage_upload)
    app.router.add_get(
        _attachments.DOWNLOAD_PATH + "{attachment_id}", _attachments.storage_download, allow_head=False
    )
    return app


class Simulator:
    """The simulator served on a real loopback socket, as an async context manager.

    >>> async with Simulator(SimulatorConfig(records=500, rate=10)) as sim:  # doctest: +SKIP
    ...     sim.base_url  # 'http://127.0.0.1:54321/v1'
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        dataset: Dataset | None = None,
    ) -> None:
        """Prepare (not start) a simulator; ``port=0`` picks a free port."""
        self._host, self._requested_port = host, port
        self._app = create_app(config, dataset=dataset)
        self._state = self._app[STATE]
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def start(self) -> None:
        """Start listening (``async with`` does this for you)."""
        runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._requested_port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def close(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Simulator:
        """Start, and return the running simulator."""
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop."""
        await self.close()

    @property
    def app(self) -> web.Application:
        """The underlying aiohttp application."""
        return self._app

    @property
    def port(self) -> int:
        """The TCP port being served (0 before :meth:`start`)."""
        return self._port

    @property
    def base_url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:54321/v1``."""
        return f"http://{self._host}:{self._port}{self._state.config.base_path}"

    @property
    def stats(self) -> SimulatorStats:
        """Live request counters."""
        return self._state.stats

    @property
    def dataset(self) -> Dataset:
        """The live data (mutated by write operations)."""
        return self._state.dataset

    @property
    def config(self) -> SimulatorConfig:
        """The current configuration (reflecting :meth:`reconfigure`)."""
        return self._state.config

    def reset_stats(self) -> None:
        """Zero the counters (limits and data are untouched)."""
        self._state.stats.reset()

    def reconfigure(self, **changes: Any) -> SimulatorConfig:
        """Change runtime settings (``rate``, ``burst``, ``daily_quota``, ``latency``, ``faults``...) mid-run.

        Raises:
            ValueError: a setting is not changeable at runtime, or a value is invalid.
        """
        unknown = set(changes) - RUNTIME_SETTINGS
        if unknown:
            msg = f"cannot change {sorted(unknown)} at runtime; changeable: {sorted(RUNTIME_SETTINGS)}"
            raise ValueError(msg)
        return self._state.reconfigure(**changes)

    def __repr__(self) -> str:
        """Where it listens and what it has served."""
        return f"<Simulator {self.base_url if self._port else 'not started'} {self.stats!r}>"


async def serve(config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run a simulator until cancelled, after printing its base URL on a line of its own."""
    async with Simulator(config, host=host, port=port) as sim:
        sys.stdout.write(f"{sim.base_url}\n")
        sys.stdout.flush()
        await asyncio.Event().wait()
