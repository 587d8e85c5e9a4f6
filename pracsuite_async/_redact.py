"""Keeping keys out of reprs, logs, errors and pickles."""

from __future__ import annotations

from typing import Any, NoReturn


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


_SECRET_HEADERS = frozenset({"x-api-key", "a-api-key"})


class RedactedHeaders(dict[str, str]):
    """Request headers whose ``repr`` masks the key headers.

    Headers live in frame locals and object attributes that error reporters (for
    example Sentry's local-variable capture) serialise with ``repr``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        shown = {k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in self.items()}
        return f"RedactedHeaders({shown!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        msg = "request headers hold secrets and cannot be pickled"
        raise TypeError(msg)
