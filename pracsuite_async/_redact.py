"""Keeping keys out of reprs, logs, errors, pickles and the frames error trackers record."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit, urlunsplit


class Secret:
    """A string that never shows itself: ``repr``/``str`` print a redaction, pickling refuses.

    Use :meth:`reveal` at the one place the value goes on the wire.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value; only for building request headers."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        msg = "Secret values cannot be pickled"
        raise TypeError(msg)

    def __getstate__(self) -> Any:
        self.__reduce__()


class SecretHeaders:
    """Request headers, some of them keys, kept sealed until the HTTP library takes them.

    Deliberately not a ``Mapping``: error trackers (Sentry's local-variable capture,
    for one) walk every mapping in a frame and record its values, but show any other
    object by its ``repr``, which here masks the keys. A transport calls
    :meth:`reveal` in the expression that hands the headers to its HTTP library, so
    no frame of this library holds the keys in a plain local.
    """

    __slots__ = ("_public", "_secret")

    def __init__(self, public: Mapping[str, str], secret: Mapping[str, Secret]) -> None:
        self._public = dict(public)
        self._secret = dict(secret)

    def with_public(self, extra: Mapping[str, str]) -> SecretHeaders:
        """A copy with ``extra`` added to the public headers."""
        return SecretHeaders({**self._public, **extra}, self._secret)

    def reveal(self) -> dict[str, str]:
        """Every header with the keys in clear: only for handing to the HTTP library."""
        headers = dict(self._public)
        for name, secret in self._secret.items():
            headers[name] = secret.reveal()
        return headers

    def __repr__(self) -> str:
        return f"SecretHeaders({self._public!r}, secret={sorted(self._secret)!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        msg = "request headers hold secrets and cannot be pickled"
        raise TypeError(msg)


def split_credentials(url: str) -> tuple[str, Secret | None]:
    """``url`` without its ``user:pass@`` part, and that part as a Basic ``Authorization`` value.

    A URL with credentials would otherwise show them in every repr, log line and
    frame that holds it; split once, they travel sealed with the keys.
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    userinfo = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    token = base64.b64encode(userinfo.encode()).decode("ascii")
    return urlunsplit(parts._replace(netloc=host)), Secret(f"Basic {token}")


def redact_url(url: str) -> str:
    """``url`` with any ``user:pass@`` shown as ``***@``, for reprs and messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
