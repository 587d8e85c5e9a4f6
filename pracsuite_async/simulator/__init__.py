"""A stateful PracSuite API v1 simulator: all 80 operations over a seeded, generated clinic.

Independent of the client (it imports nothing from the rest of ``pracsuite_async``);
runtime dependencies are aiohttp and attrs only.

Use :class:`Simulator` (an ``async with`` server on 127.0.0.1) or :func:`create_app`
(an aiohttp app for ``aiohttp.test_utils.TestServer``), or run
``python -m pracsuite_async.simulator --port 8080 --records 100000 --rate 10``.
Default keys: ``x-api-key: sim-vendor-key`` and ``A-api-key: sim-account-key``.

Conventions where the API docs are silent (README "Gaps"):

- **List ends:** ``links.previous`` / ``links.next`` are *omitted* (never null) on
  the first / last page; ``links.self`` is the request URL. A page past the end
  is an empty list with the true ``total_entries``. ``row_num`` is the 1-based
  position in the whole result, ``total_rows`` equals ``total_entries``.
- **Sorting:** default order is ascending id (``SimulatorConfig.order`` changes it).
  ``sort_by`` takes the documented JSON array ``["a","b"]``, and unless
  ``sort_wire="json"`` also ``a,b`` or repeated parameters; a leading ``-`` sorts
  that field descending (``+`` or nothing: ascending); nulls sort first ascending.
  Sortable: the element's scalar fields plus the operation's filter names.
  Unknown fields are a 400. ``ignore_sort`` and ``ignore_page`` make it ignore those
  parameters, as some servers do.
- **Parameters:** unknown query parameters are ignored.
- **Filters:** ``q[]`` (or ``q``) conditions are ANDed; unknown field, operator not
  allowed for the type, or a malformed value is a 400. ``~`` is a case-insensitive
  substring match, ``=``/``!=`` on strings are exact. ``null`` never matches. Filters
  of type ``double`` accept ``= != < <= > >=``. Timestamps may carry any offset
  (naive means UTC). Multi-valued filters match if any value matches
  (``phone`` = any of the phone numbers; ``!=`` means none matches). Patient
  ``status`` follows README (1 Active ... 6 Deceased); without it all patients are listed.
- **Ids:** appointments, notes, rule outs, group appointments, holds and
  cancellations share one id space. The appointment book lists all diary kinds;
  ``/appointment`` lists patient appointments only.
- **Writes:** both body revisions are accepted; a clash (same practitioner,
  business and overlapping columns and time with an appointment, class, rule out
  or live 15-minute hold) is a 409 ``RESERVE_APPOINTMENT_CONFLICT``, also on
  ``editAppointment``. ``record_as_cancelled`` defaults to true; removals always
  appear in ``cancelled_appointment`` (``include_deletions=true`` adds the ones not
  recorded as cancellations). The attachment upload request answers 200.
- **Errors:** unknown path or method -> 403 ``MISSING_AUTHENTICATION_TOKEN``; 429
  codes are ``TOO_MANY_REQUESTS`` (rate) and ``QUOTA_EXCEEDED`` (daily quota, reset at
  UTC midnight); a scoped list whose parent does not exist is a 404.
"""

from pracsuite_async.simulator._app import Simulator, create_app, serve
from pracsuite_async.simulator._config import SimulatorConfig, parse_faults
from pracsuite_async.simulator._data import Dataset
from pracsuite_async.simulator._generate import generate_dataset
from pracsuite_async.simulator._routes import ROUTES
from pracsuite_async.simulator._stats import RequestRecord, SimulatorStats
from pracsuite_async.simulator._timezones import VALID_TIMEZONES

__all__ = [
    "ROUTES",
    "VALID_TIMEZONES",
    "Dataset",
    "RequestRecord",
    "Simulator",
    "SimulatorConfig",
    "SimulatorStats",
    "create_app",
    "generate_dataset",
    "parse_faults",
    "serve",
]
