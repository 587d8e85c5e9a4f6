"""Public conversion between models and their wire JSON, over the one converter."""

from __future__ import annotations

from typing import Any, TypeVar

from pracsuite_async import _converter
from pracsuite_async._errors import ResponseDecodeError

T = TypeVar("T")

__all__ = ["decode", "decode_list", "from_dict", "to_dict"]


def to_dict(model: object) -> dict[str, Any]:
    """A model as wire JSON, ready for ``json.dumps``: wire field names, API time formats.

    What it writes, exactly:

    * Response models: every field of the model, in declaration order, then the
      unknown fields kept in ``.extra``, as received. Models do not record which
      fields the server sent, so a field it omitted is written as ``null``, the same
      as a field it sent as ``null``. Filter out ``None`` values if you need the
      absent fields to stay absent.
    * Request models: fields left ``UNSET`` are omitted; ``None`` is written as
      ``null`` (which clears the field on update).
    * Times are re-formatted, not copied: ``app_time`` (tenant-local) as
      ``YYYY-MM-DDTHH:MM:SS``, timestamps in UTC with ``Z`` (microseconds only
      when non-zero), dates as ``YYYY-MM-DD``. ``from_dict`` reads all of it back
      into an equal model.
    """
    return _converter.unstructure(model)


def from_dict(data: Any, cls: type[T]) -> T:
    """Build a model from wire JSON (for example a stored export line).

    Raises:
        ResponseDecodeError: the data does not fit the model; ``problems`` name the
            paths, never the values.
    """
    return decode(data, cls, method="-", path=cls.__name__)


def decode(data: Any, cls: type[T], *, method: str, path: str) -> T:
    """``data`` as ``cls``; a mismatch is a :class:`ResponseDecodeError` naming method and path."""
    try:
        return _converter.structure(data, cls)
    except _converter.StructureError as exc:
        msg = "data does not match the model"
        raise ResponseDecodeError(msg, method=method, path=path, problems=exc.problems) from None


def decode_list(data: Any, cls: type[T], *, method: str, path: str) -> list[T]:
    """Each element of ``data`` as ``cls`` (the fast path for pages); errors as :func:`decode`."""
    try:
        return _converter.structure_list(data, cls)
    except _converter.StructureError as exc:
        msg = "data does not match the model"
        raise ResponseDecodeError(msg, method=method, path=path, problems=exc.problems) from None
