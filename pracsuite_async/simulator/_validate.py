"""Request-body validation that collects every problem into a 422 ``validation`` list."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from aiohttp import web

from pracsuite_async.simulator._data import Record
from pracsuite_async.simulator._http import ApiError, bad_params, invalid_body, not_found
from pracsuite_async.simulator._rules import parse_date, parse_local

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
_INT = re.compile(r"^\d+$")
T = TypeVar("T")


def must(value: T | None) -> T:
    """Narrow a field that :meth:`Checker.check` has already guaranteed to be present."""
    if value is None:
        msg = "a validated field is missing"
        raise RuntimeError(msg)
    return value


async def read_body(request: web.Request) -> dict[str, Any]:
    """The JSON object body (an empty body counts as ``{}``); 422 when it is not a JSON object."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise invalid_body([{"field": "body", "message": "The request body must be valid JSON."}]) from None
    if not isinstance(body, dict):
        raise invalid_body([{"field": "body", "message": "The request body must be a JSON object."}])
    return body


def path_int(match_info: Mapping[str, str], name: str) -> int:
    """An integer path parameter (400 when it is not one)."""
    raw = match_info[name]
    if not _INT.match(raw):
        msg = f"{name} must be an integer"
        raise bad_params(msg)
    return int(raw)


def find(rows: Mapping[int, Record], rid: int, label: str, kind: str | None = None) -> Record:
    """The record with id ``rid`` (of diary kind ``kind``), or a 404."""
    rec = rows.get(rid)
    if rec is None or (kind is not None and rec.get("_kind") != kind):
        raise not_found(label, rid)
    return rec


class Checker:
    """Reads typed fields from a body, recording a ``{field, message}`` for each problem.

    A field sent as ``null`` counts as absent. Getters return ``None`` when the
    field is absent or invalid, so callers can carry on and report everything at once.
    """

    def __init__(self, body: Mapping[str, Any]) -> None:
        """Validate ``body``."""
        self.body = body
        self.errors: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        """Record a problem with ``field``."""
        self.errors.append({"field": field, "message": message})

    def given(self, field: str) -> bool:
        """Whether ``field`` is present and not null."""
        return self.body.get(field) is not None

    def _get(self, field: str, required: bool) -> Any:
        value = self.body.get(field)
        if value is None and required:
            self.add(field, f"The {field} field is required.")
        return value

    def integer(
        self,
        field: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
        choices: tuple[int, ...] = (),
    ) -> int | None:
        """An integer field with optional bounds or allowed values."""
        value = self._get(field, required)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.add(field, f"The {field} field must be an integer.")
            return None
        if choices and value not in choices:
            self.add(field, f"The {field} field must be one of {', '.join(map(str, choices))}.")
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.add(field, f"The {field} field must be between {minimum} and {maximum}.")
            return None
        return value

    def string(self, field: str, *, required: bool = False, max_length: int | None = None) -> str | None:
        """A string field (required strings must not be blank)."""
        value = self._get(field, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(field, f"The {field} field must be a string.")
            return None
        if required and not value.strip():
            self.add(field, f"The {field} field is required.")
            return None
        if max_length is not None and len(value) > max_length:
            self.add(field, f"The {field} field must not be longer than {max_length} characters.")
            return None
        return value

    def boolean(self, field: str, *, required: bool = False) -> bool | None:
        """A boolean field."""
        value = self._get(field, required)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.add(field, f"The {field} field must be true or false.")
            return None
        return value

    def int_list(self, field: str) -> list[int] | None:
        """A list of integers."""
        value = self._get(field, False)
        if value is None:
            return None
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            self.add(field, f"The {field} field must be a list of integers.")
            return None
        return value

    def local_datetime(self, field: str, *, required: bool = False) -> int | None:
        """A tenant-local ``yyyy-MM-ddTHH:mm:ss`` as seconds (see :func:`parse_local`)."""
        value = self._get(field, required)
        if value is None:
            return None
        seconds = parse_local(value) if isinstance(value, str) else None
        if seconds is None:
            self.add(field, f"The {field} field must be a local date and time yyyy-MM-ddTHH:mm:ss.")
        return seconds

    def date(self, field: str) -> str | None:
        """A ``yyyy-MM-dd`` date."""
        value = self._get(field, False)
        if value is None:
            return None
        if not isinstance(value, str) or parse_date(value) is None:
            self.add(field, f"The {field} field must be a date yyyy-MM-dd.")
            return None
        return value

    def duration(self, field: str = "duration", *, required: bool = False) -> int | None:
        """Minutes: 5..1440 and a multiple of 5 (README "Special rules")."""
        value = self.integer(field, required=required)
        if value is None:
            return None
        if not 5 <= value <= 1440 or value % 5:
            self.add(field, f"The {field} field must be between 5 and 1440 and a multiple of 5.")
            return None
        return value

    def email(self, field: str, *, max_length: int) -> str | None:
        """A plausible e-mail address."""
        value = self.string(field, max_length=max_length)
        if value is not None and not _EMAIL.match(value):
            self.add(field, f"The {field} field must be a valid email address.")
            return None
        return value

    def colour(self, field: str) -> str | None:
        """A ``#RRGGBB`` colour."""
        value = self.string(field)
        if value is not None and not _HEX.match(value):
            self.add(field, f"The {field} field must be a colour like #FFD700.")
            return None
        return value

    def ref(self, field: str, rows: Mapping[int, Record], *, required: bool = False) -> Record | None:
        """An id field that must name an existing record; returns that record."""
        value = self.integer(field, required=required)
        if value is None:
            return None
        rec = rows.get(value)
        if rec is None:
            self.add(field, f"The selected {field} is invalid.")
        return rec

    def refs(self, field: str, rows: Mapping[int, Record]) -> list[int] | None:
        """A list of ids that must all exist."""
        values = self.int_list(field)
        if values is None:
            return None
        if any(v not in rows for v in values):
            self.add(field, f"The {field} field contains an unknown id.")
            return None
        return values

    def check(self) -> None:
        """Raise the 422 if any problem was recorded."""
        if self.errors:
            raise invalid_body(self.errors)


def conflict(detail: str = "This appointment slot is taken.") -> ApiError:
    """The 409 ``RESERVE_APPOINTMENT_CONFLICT`` error."""
    return ApiError(409, detail)
