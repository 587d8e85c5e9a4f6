"""Per-application state shared by the middleware and every handler."""

from __future__ import annotations

import hashlib
import hmac
import random

import attrs
from aiohttp import web

from pracsuite_async.simulator._config import SimulatorConfig
from pracsuite_async.simulator._data import Dataset, Record, timestamp_now
from pracsuite_async.simulator._faults import FaultInjector
from pracsuite_async.simulator._http import dumps
from pracsuite_async.simulator._ratelimit import RateLimiter
from pracsuite_async.simulator._stats import SimulatorStats
from pracsuite_async.simulator._store import Store


class SimState:
    """Config, data, admission control and counters of one simulator app."""

    def __init__(self, config: SimulatorConfig, dataset: Dataset) -> None:
        """Wire the parts together for ``config`` over ``dataset``."""
        self.config = config
        self.dataset = dataset
        self.store = Store(dataset, clock=config.clock, hold_seconds=config.hold_seconds)
        if config.prewarm:
            for table in self.store.tables.values():
                table.prewarm()
        self.stats = SimulatorStats(log_size=config.request_log_size)
        self.limiter = RateLimiter(
            rate=config.rate, burst=config.burst, daily_quota=config.daily_quota, wall_clock=config.wall_clock
        )
        self.faults = FaultInjector(config.fault_schedule, config.seed)
        self.jitter = random.Random(f"latency-{config.seed}")
        self.secret = hashlib.sha256(f"pracsuite-sim-{config.seed}".encode()).digest()
        #: Presigned uploads not yet used, by S3 object key.
        self.uploads: dict[str, Record] = {}
        #: Uploaded file bytes by attachment id (generated attachments synthesise theirs).
        self.contents: dict[int, bytes] = {}

    def reconfigure(self, **changes: object) -> SimulatorConfig:
        """Apply runtime-changeable settings (rate, burst, daily_quota, latency, jitter, faults...)."""
        config = attrs.evolve(self.config, **changes)  # type: ignore[arg-type]
        self.limiter.reconfigure(
            rate=config.rate, burst=config.burst, daily_quota=config.daily_quota, now=config.clock()
        )
        self.faults.set_schedule(config.fault_schedule)
        self.config = config
        return config

    def base(self, request: web.Request) -> str:
        """Absolute API base URL as seen by the client, JSON-escaped for splicing into bodies."""
        return dumps(f"{request.scheme}://{request.host}{self.config.base_path}")[1:-1]

    def origin(self, request: web.Request) -> str:
        """``scheme://host`` of the request (for the storage routes outside the base path)."""
        return f"{request.scheme}://{request.host}"

    def now(self) -> str:
        """The current UTC timestamp for created/modified fields."""
        return timestamp_now(self.config.wall_clock())

    def sign(self, text: str) -> str:
        """A short HMAC of ``text`` (presigned URLs and upload policies)."""
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()[:32]


STATE: web.AppKey[SimState] = web.AppKey("pracsuite_simulator_state", SimState)


def state(request: web.Request) -> SimState:
    """The :class:`SimState` of the app serving ``request``."""
    return request.app[STATE]
