"""Per-call options and the defaults a client view carries.

A :class:`CallOptions` value is what the pipeline needs to know about one call
beyond the request itself: its deadline, per-attempt timeout, retry cap, extra
headers and query, lane and write safety. A client (or a view of one made by
``with_options``/``for_account``) holds the defaults; each method's keyword
arguments override them for one call. ``None`` always means "use the default".
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import attrs

from pracsuite_async._errors import ConfigurationError, RequestValidationError
from pracsuite_async._redact import SecretHeaders
from pracsuite_async._scheduler import LANES, Priority
from pracsuite_async._types import is_seconds

__all__ = ["DEFAULT_CALL_OPTIONS", "PROTECTED_HEADERS", "CallOptions", "check_options"]

#: Headers that carry the keys or the protocol: never taken from ``extra_headers``.
PROTECTED_HEADERS = frozenset({"x-api-key", "a-api-key", "content-type", "content-length", "host"})


@attrs.frozen(slots=True)
class CallOptions:
    """Settings of one call (or a client's defaults); ``None`` means unset.

    ``deadline`` bounds the whole operation (limiter waits, attempts, backoff); ``timeout``
    bounds one attempt; ``max_retries`` caps retries after the first attempt.
    """

    deadline: float | None = None
    timeout: float | None = None
    max_retries: int | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    extra_query: tuple[tuple[str, str], ...] = ()
    priority: Priority = "interactive"
    #: The view's sealed headers (keys, plus its ``extra_headers``); ``None``: the client's.
    headers: SecretHeaders | None = attrs.field(default=None, repr=False)
    #: Round-robin identity of the clinic account (``for_account`` views differ).
    account: Hashable = attrs.field(default=0, repr=False)

    def merged(self, **changes: Any) -> CallOptions:
        """These options with every non-``None`` change applied (headers and query are added to).

        New ``extra_headers`` are sealed into ``headers`` once here, not on every attempt.
        """
        out = {k: v for k, v in changes.items() if v is not None}
        if not out:
            return self
        if "extra_headers" in out:
            added = out["extra_headers"]
            out["extra_headers"] = (*self.extra_headers, *added)
            if self.headers is not None:
                out["headers"] = self.headers.with_public(dict(added))
        if "extra_query" in out:
            out["extra_query"] = (*self.extra_query, *out["extra_query"])
        return attrs.evolve(self, **out)


#: Options of a call that sets none, on a client with no view-level defaults.
DEFAULT_CALL_OPTIONS = CallOptions()


def _positive_seconds(name: str, value: object) -> float | None:
    if value is None:
        return None
    if not is_seconds(value):
        msg = f"{name} must be a positive number of seconds or None"
        raise ValueError(msg)
    return float(value)  # type: ignore[arg-type]  # is_seconds checked it is a number


def _pairs(name: str, value: object) -> tuple[tuple[str, str], ...] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        msg = f"{name} must be a mapping of strings to strings"
        raise ValueError(msg)  # noqa: TRY004 - reported as a validation error of the argument
    pairs = []
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str) or not key:
            msg = f"{name} must be a mapping of strings to strings"
            raise ValueError(msg)
        unsafe = key.lower() in PROTECTED_HEADERS or any(c in key + item for c in "\r\n")
        if name == "extra_headers" and unsafe:
            msg = f"{name} cannot set {key.lower()!r} (keys and protocol headers are the client's)"
            raise ValueError(msg)
        pairs.append((key, item))
    return tuple(pairs)


def _retries(value: object) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        msg = "max_retries must be an integer >= 0 or None"
        raise ValueError(msg)
    return value


def _lane(value: object) -> Priority | None:
    if value is not None and value not in LANES:
        msg = f"priority must be one of {', '.join(LANES)}"
        raise ValueError(msg)
    return value


def check_options(*, where: str, **values: object) -> dict[str, Any]:
    """Validated option values (``None`` kept as "unset").

    ``where`` is ``"client"`` (errors are :class:`ConfigurationError`) or ``"call"``
    (:class:`RequestValidationError`); the message names the parameter, never the value.
    """
    out: dict[str, Any] = {}
    try:
        for name, value in values.items():
            if name in ("deadline", "timeout"):
                out[name] = _positive_seconds(name, value)
            elif name == "max_retries":
                out[name] = _retries(value)
            elif name in ("extra_headers", "extra_query"):
                out[name] = _pairs(name, value)
            elif name == "priority":
                out[name] = _lane(value)
            else:  # pragma: no cover - a programming error in the caller
                msg = f"unknown option {name}"
                raise AssertionError(msg)
    except ValueError as exc:
        if where == "client":
            raise ConfigurationError(str(exc)) from None
        field, _, rule = str(exc).partition(" ")
        raise RequestValidationError(field, rule) from None
    return out
