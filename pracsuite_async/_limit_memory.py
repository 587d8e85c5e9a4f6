"""The learned rate limit, remembered between runs of one process.

With ``rate_limit=None`` the client discovers the API's limit from a 10/s seed,
which costs every short job the ramp and one 429 pause. Once the estimator has
settled on a limit (:attr:`RateEstimator.settled`), it is written to a small JSON
file in the user cache directory, and the next client for the same base URL and
vendor key starts held at it (:meth:`AdaptiveRateLimiter.resume`), re-probing
later as usual, so a raised limit is still found and a lowered one shows itself
with its first 429.

The file is ``$XDG_CACHE_HOME/pracsuite_async/limits.json`` (``~/.cache`` when
unset; ``$PRACSUITE_CACHE_DIR`` replaces the directory), keyed by a hash of the
base URL and the vendor key: the key itself is never stored. Opt out with
``remember_limit=False`` or ``PRACSUITE_REMEMBER_LIMIT=0``. A missing, unreadable
or corrupt file means "nothing remembered"; a failed write is logged at debug
level and otherwise ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import tempfile
from pathlib import Path

from pracsuite_async._limiter import AdaptiveRateLimiter
from pracsuite_async._redact import Secret

__all__ = ["ENV_CACHE_DIR", "ENV_REMEMBER", "LimitMemory", "limits_file"]

logger = logging.getLogger("pracsuite_async.limits")

#: Set to ``0`` (or ``false``/``no``/``off``) to never read or write the file.
ENV_REMEMBER = "PRACSUITE_REMEMBER_LIMIT"
#: Overrides the directory that holds ``limits.json``.
ENV_CACHE_DIR = "PRACSUITE_CACHE_DIR"
#: Remembered values outside these bounds are ignored (a hand-edited or foreign file).
_MAX_RATE, _MAX_BURST = 100_000.0, 1_000.0
#: Budgets kept in the file; the least recently written go first.
_MAX_ENTRIES = 64


def limits_file() -> Path:
    """Where learned limits are remembered (see the module docstring)."""
    override = os.environ.get(ENV_CACHE_DIR)
    if override:
        return Path(override) / "limits.json"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pracsuite_async" / "limits.json"


def remembering_enabled() -> bool:
    """False when the environment opts out (``PRACSUITE_REMEMBER_LIMIT=0``)."""
    return os.environ.get(ENV_REMEMBER, "1").strip().lower() not in {"0", "false", "no", "off"}


def _read(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class LimitMemory:
    """One budget's entry in the limits file: recalled at start, written when the limit settles."""

    def __init__(self, path: Path, base_url: str, vendor_key: Secret) -> None:
        self.path: Path = path
        # A hash, so the file never holds the key (nor anything that recovers it cheaply);
        # revealed inside the expression, so no frame keeps it in a local.
        self.key: str = hashlib.sha256(f"{base_url}\n{vendor_key.reveal()}".encode()).hexdigest()[:32]
        self._saved: tuple[float, float] | None = None

    def recall(self) -> tuple[float, float] | None:
        """The remembered (rate, burst), if there is a sane one."""
        entry = _read(self.path).get(self.key)
        if not isinstance(entry, dict):
            return None
        rate, burst = entry.get("rate"), entry.get("burst")
        if isinstance(rate, bool) or isinstance(burst, bool):
            return None
        if not isinstance(rate, int | float) or not isinstance(burst, int | float):
            return None
        if not (0 < rate <= _MAX_RATE and 1 <= burst <= _MAX_BURST and math.isfinite(rate + burst)):
            return None
        return float(rate), float(burst)

    def attach(self, limiter: AdaptiveRateLimiter) -> None:
        """Start ``limiter`` at the remembered limit and remember each limit it settles on."""
        remembered = self.recall()
        if remembered is not None:
            self._saved = remembered
            limiter.resume(*remembered)
        limiter.on_settle = self.save

    def save(self, rate: float, burst: float) -> None:
        """Write ``(rate, burst)`` for this budget (atomically; errors are logged, not raised)."""
        if self._saved == (rate, burst):
            return
        self._saved = (rate, burst)
        data = _read(self.path)
        data.pop(self.key, None)
        data[self.key] = {"rate": round(rate, 4), "burst": burst}
        while len(data) > _MAX_ENTRIES:
            data.pop(next(iter(data)))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".limits-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out)
                os.replace(tmp, self.path)  # readers see the old file or the new one, never half
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            logger.debug("could not remember the learned rate limit (%s)", type(exc).__name__)

    def flush(self, limiter: AdaptiveRateLimiter) -> None:
        """On close: write the limit the limiter settled on last, if any."""
        settled = limiter.settled
        if settled is not None:
            self.save(settled, limiter.burst)
