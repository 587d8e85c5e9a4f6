"""Response helpers: the PracSuite error envelope and compact JSON bodies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

#: Error codes by status (README "Errors"); 429 codes are the simulator's own.
CODES = {
    400: "INVALID_PARAMS",
    401: "UNAUTHORIZED",
    403: "MISSING_AUTHENTICATION_TOKEN",
    404: "NOT_FOUND",
    409: "RESERVE_APPOINTMENT_CONFLICT",
    422: "INVALID_BODY",
    429: "TOO_MANY_REQUESTS",
}


def dumps(value: Any) -> str:
    """Compact JSON text (no spaces, UTF-8 kept as is)."""
    return _DUMPS(value)


class ApiError(Exception):
    """Raised by handlers to answer with the error envelope."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        validation: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Describe the error; ``code`` defaults from the status (``SERVER_ERROR`` for 5xx)."""
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or CODES.get(status, "SERVER_ERROR")
        self.validation = validation
        self.headers = dict(headers or {})


def bad_params(detail: str) -> ApiError:
    """A 400 ``INVALID_PARAMS`` error."""
    return ApiError(400, detail)


def not_found(label: str, value: object) -> ApiError:
    """A 404 in the docs' wording: ``Could not find {Resource} with ID {ID}``."""
    return ApiError(404, f"Could not find {label} with ID {value}")


def invalid_body(validation: list[dict[str, str]]) -> ApiError:
    """A 422 ``INVALID_BODY`` error listing ``{field, message}`` problems."""
    return ApiError(422, "There are some issues with the request body.", validation=validation)


def error_response(err: ApiError) -> web.Response:
    """Render an :class:`ApiError` as the PracSuite error envelope."""
    detail: dict[str, Any] = {"status": err.status, "code": err.code, "detail": err.detail}
    if err.validation is not None:
        detail["validation"] = err.validation
    body = dumps({"error": detail, "request_id": str(uuid.uuid4())})
    return web.Response(status=err.status, text=body, content_type="application/json", headers=err.headers)


def json_text(text: str, status: int = 200) -> web.Response:
    """Answer with pre-rendered JSON text."""
    return web.Response(status=status, text=text, content_type="application/json")


def json_value(value: Any, status: int = 200) -> web.Response:
    """Answer with a value rendered as compact JSON."""
    return json_text(dumps(value), status)
