"""``PracSuiteClient``: settings, the ``async with`` lifecycle and the resource namespaces.

No HTTP happens here: requests are built by ``_wire``, sent by ``_pipeline``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
from collections.abc import Hashable, Iterable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import attrs

from pracsuite_async import resources as _resources
from pracsuite_async._clock import Clock, SystemClock, check_deadline
from pracsuite_async._config import (
    DEFAULT_BASE_URL,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_PAGE_WINDOW,
    DEFAULT_TIMEOUT,
    ENV_ACCOUNT_KEY,
    ENV_VENDOR_KEY,
)
from pracsuite_async._errors import ClientClosedError, ConfigurationError, EventLoopMismatchError
from pracsuite_async._events import EventHook
from pracsuite_async._limit_memory import LimitMemory, limits_file, remembering_enabled
from pracsuite_async._limiter import (
    DEFAULT_BURST,
    DEFAULT_SEED_RATE,
    AdaptiveRateLimiter,
    AiolimiterAdapter,
    RateLimiter,
    check_burst,
    check_rate,
)
from pracsuite_async._options import CallOptions, check_options
from pracsuite_async._pipeline import Pipeline
from pracsuite_async._redact import Secret, SecretHeaders, redact_url, split_credentials
from pracsuite_async._retry import RetryPolicy
from pracsuite_async._scheduler import Priority
from pracsuite_async._tasks import cancel_and_wait
from pracsuite_async._transport import AiohttpTransport, Transport, check_base_url
from pracsuite_async._types import is_seconds
from pracsuite_async._wire import raw_request
from pracsuite_async.resources import NAMESPACES

if TYPE_CHECKING:
    import aiohttp
    from aiolimiter import AsyncLimiter

__all__ = ["ClientStats", "PracSuiteClient"]

try:
    __version__ = version("pracsuite-async")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

USER_AGENT = f"pracsuite-async/{__version__}"


def _key(value: object, env: str, what: str) -> Secret:
    value = value if value is not None else os.environ.get(env)
    if not value:
        msg = f"missing {what}: pass it to PracSuiteClient or set {env}"
        raise ConfigurationError(msg)
    if not isinstance(value, str) or not value.isprintable():
        msg = f"{what} must be a string of printable characters"
        raise ConfigurationError(msg)
    return Secret(value)


@attrs.frozen
class ClientStats:
    """Counters of one client: requests sent, retries, 429s, limiter waiting time and rate."""

    requests_sent: int
    retries: int
    throttled: int
    rate_limit_wait: float
    current_rate: float | None


class PracSuiteClient:
    """The asyncio client of the PracSuite API v1.

    Use one client per application (for example created in a FastAPI lifespan) and
    share it between tasks: it owns one connection pool, one rate limiter and one
    concurrency cap::

        async with PracSuiteClient() as client:
            async for appt in client.appointments.list(page_size=100):
                ...

    Lifecycle: the client belongs to the event loop that first uses it (another
    loop gets :class:`~pracsuite_async.EventLoopMismatchError`), and closed is
    final: :meth:`aclose` (or leaving ``async with``) cancels the client's own
    background fetches, closes the pool, and every later call raises
    :class:`~pracsuite_async.ClientClosedError`.

    Args:
        vendor_key: the ``x-api-key`` vendor key (default: ``$PRACSUITE_VENDOR_KEY``).
        account_key: the ``A-api-key`` clinic key (default: ``$PRACSUITE_ACCOUNT_KEY``).
        base_url: API root; plain ``http`` only to loopback unless ``allow_insecure``.
        rate_limit: requests per second (a number: paced at that rate, burst 2);
            ``None`` (default) to discover the limit adaptively from a conservative
            10/s; or a :class:`RateLimiter` / ``aiolimiter.AsyncLimiter`` instance.
        burst: bucket capacity of the default limiter.
        max_concurrency: requests in flight at once.
        retry: the :class:`RetryPolicy` (``RetryPolicy(max_attempts=1)`` disables retries).
        timeout: seconds one attempt may take.
        deadline: default seconds a whole call may take (limiter waits, attempts, backoff).
        page_window: pages a list walk keeps in flight.
        session: an ``aiohttp.ClientSession`` to use (not closed by the client).
        transport: a custom :class:`Transport` (tests use :class:`~pracsuite_async.testing.FakeTransport`).
        clock: time source (tests use :class:`~pracsuite_async.testing.FakeClock`).
        event_hooks: callables receiving every :data:`~pracsuite_async.Event`.
        allow_insecure: permit ``http://`` to a non-loopback host.
        rng: random source of the retry jitter (tests pass a seeded one).
        max_response_bytes: largest API response body read (default 32 MiB); a
            larger one raises :class:`~pracsuite_async.ResponseTooLargeError`.
        max_download_bytes: largest attachment download (default 128 MiB).
        remember_limit: with ``rate_limit=None``, start at the limit learned by an
            earlier run and remember the one learned now (a small file in the user
            cache directory, keyed by a hash of the base URL and vendor key; also
            off when ``$PRACSUITE_REMEMBER_LIMIT=0``).

    Every setting is checked here: a bad one raises
    :class:`~pracsuite_async.ConfigurationError` naming it, before any request.
    """

    def __init__(
        self,
        vendor_key: str | None = None,
        account_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        rate_limit: float | RateLimiter | AsyncLimiter | None = None,
        burst: float = DEFAULT_BURST,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        retry: RetryPolicy | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        deadline: float | None = DEFAULT_DEADLINE,
        page_window: int = DEFAULT_PAGE_WINDOW,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        clock: Clock | None = None,
        event_hooks: Sequence[EventHook] = (),
        allow_insecure: bool = False,
        rng: random.Random | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        remember_limit: bool = True,
    ) -> None:
        vendor = _key(vendor_key, ENV_VENDOR_KEY, "vendor key")
        account = _key(account_key, ENV_ACCOUNT_KEY, "account key")
        # Error trackers record the locals of every frame a traceback passes.
        del vendor_key, account_key
        event_hooks = _check_settings(
            allow_insecure=allow_insecure, max_concurrency=max_concurrency, retry=retry, timeout=timeout,
            deadline=deadline, page_window=page_window, transport=transport, clock=clock,
            event_hooks=event_hooks, rng=rng, max_response_bytes=max_response_bytes,
            max_download_bytes=max_download_bytes,
        )
        base, basic_auth = split_credentials(check_base_url(base_url, allow_insecure=allow_insecure))
        #: The API root, credentials removed.
        self.base_url: str = base
        clock = clock or SystemClock()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        # Closed state and loop binding, shared with every view (with_options, for_account).
        self._life = _Lifecycle()
        # Page fetches of walks still open; aclose() cancels them (a walk may be
        # abandoned without being closed, leaving its fetches to run on).
        self._tasks: set[asyncio.Task[Any]] = set()
        # Slots that this client's book() calls are reserving or holding, so that
        # concurrent bookings of one client never race each other for a slot.
        self._slot_claims: set[Hashable] = set()
        retry = retry or RetryPolicy()
        #: The rate limiter every request of this client and its views passes.
        self.limiter: RateLimiter = _make_limiter(rate_limit, burst, clock, retry.max_retry_after)
        setting: object = remember_limit  # checked like the other settings: callers may pass anything
        if not isinstance(setting, bool):
            msg = "remember_limit must be True or False"
            raise ConfigurationError(msg)
        self._limit_memory: LimitMemory | None = None
        limiter = self.limiter
        if remember_limit and rate_limit is None and isinstance(limiter, AdaptiveRateLimiter) \
                and remembering_enabled():
            self._limit_memory = LimitMemory(limits_file(), self.base_url, vendor)
            self._limit_memory.attach(limiter)
        #: Pages a list walk keeps in flight.
        self.page_window: int = page_window
        self._transport = transport or AiohttpTransport(
            self.base_url, session=session, max_connections=max_concurrency,
            max_response_bytes=max_response_bytes, max_download_bytes=max_download_bytes,
        )
        keys = {"x-api-key": vendor, "A-api-key": account}
        if basic_auth is not None:
            keys["Authorization"] = basic_auth
        headers = SecretHeaders({"User-Agent": USER_AGENT, "Accept": "application/json"}, keys)
        self._keys = keys
        self._is_view = False
        #: This client's per-call defaults (a view's are its own); see :meth:`with_options`.
        self._defaults = CallOptions(headers=headers, account=object())
        self._pipeline = Pipeline(
            transport=self._transport,
            headers=headers,
            limiter=self.limiter,
            retry=retry,
            clock=clock,
            max_concurrency=max_concurrency,
            timeout=timeout,
            deadline=deadline,
            hooks=event_hooks,
            rng=self._rng,
        )

    # ---- Generated by tools/codegen/generate.py: the resource namespaces; do not edit. ----

    @functools.cached_property
    def appointment_book(self) -> _resources.AppointmentBook:
        """The Appointment Book operations (:class:`~pracsuite_async.resources.AppointmentBook`)."""
        return _resources.AppointmentBook(self)

    @functools.cached_property
    def appointments(self) -> _resources.Appointments:
        """The Appointment operations (:class:`~pracsuite_async.resources.Appointments`)."""
        return _resources.Appointments(self)

    @functools.cached_property
    def notes(self) -> _resources.Notes:
        """The Note operations (:class:`~pracsuite_async.resources.Notes`)."""
        return _resources.Notes(self)

    @functools.cached_property
    def rule_outs(self) -> _resources.RuleOuts:
        """The Rule Out operations (:class:`~pracsuite_async.resources.RuleOuts`)."""
        return _resources.RuleOuts(self)

    @functools.cached_property
    def group_appointments(self) -> _resources.GroupAppointments:
        """The Group Appointment operations (:class:`~pracsuite_async.resources.GroupAppointments`)."""
        return _resources.GroupAppointments(self)

    @functools.cached_property
    def cancelled_appointments(self) -> _resources.CancelledAppointments:
        """The Cancelled Appointment operations."""
        return _resources.CancelledAppointments(self)

    @functools.cached_property
    def cancellation_reasons(self) -> _resources.CancellationReasons:
        """The Cancellation Reason operations (:class:`~pracsuite_async.resources.CancellationReasons`)."""
        return _resources.CancellationReasons(self)

    @functools.cached_property
    def reschedule_reasons(self) -> _resources.RescheduleReasons:
        """The Reschedule Reason operations (:class:`~pracsuite_async.resources.RescheduleReasons`)."""
        return _resources.RescheduleReasons(self)

    @functools.cached_property
    def appointment_types(self) -> _resources.AppointmentTypes:
        """The Appointment Type operations (:class:`~pracsuite_async.resources.AppointmentTypes`)."""
        return _resources.AppointmentTypes(self)

    @functools.cached_property
    def appointment_statuses(self) -> _resources.AppointmentStatuses:
        """The Appointment Status operations (:class:`~pracsuite_async.resources.AppointmentStatuses`)."""
        return _resources.AppointmentStatuses(self)

    @functools.cached_property
    def available_appointments(self) -> _resources.AvailableAppointments:
        """The Available Appointment operations."""
        return _resources.AvailableAppointments(self)

    @functools.cached_property
    def available_group_appointments(self) -> _resources.AvailableGroupAppointments:
        """The Available Group Appointment operations."""
        return _resources.AvailableGroupAppointments(self)

    @functools.cached_property
    def businesses(self) -> _resources.Businesses:
        """The Business operations (:class:`~pracsuite_async.resources.Businesses`)."""
        return _resources.Businesses(self)

    @functools.cached_property
    def fee_categories(self) -> _resources.FeeCategories:
        """The Fee Category operations (:class:`~pracsuite_async.resources.FeeCategories`)."""
        return _resources.FeeCategories(self)

    @functools.cached_property
    def items(self) -> _resources.Items:
        """The Item operations (:class:`~pracsuite_async.resources.Items`)."""
        return _resources.Items(self)

    @functools.cached_property
    def item_groups(self) -> _resources.ItemGroups:
        """The Item Group operations (:class:`~pracsuite_async.resources.ItemGroups`)."""
        return _resources.ItemGroups(self)

    @functools.cached_property
    def patients(self) -> _resources.Patients:
        """The Patient operations (:class:`~pracsuite_async.resources.Patients`)."""
        return _resources.Patients(self)

    @functools.cached_property
    def patient_accounts(self) -> _resources.PatientAccounts:
        """The Patient Account operations (:class:`~pracsuite_async.resources.PatientAccounts`)."""
        return _resources.PatientAccounts(self)

    @functools.cached_property
    def invoices(self) -> _resources.Invoices:
        """The Invoice operations (:class:`~pracsuite_async.resources.Invoices`)."""
        return _resources.Invoices(self)

    @functools.cached_property
    def payments(self) -> _resources.Payments:
        """The Payment operations (:class:`~pracsuite_async.resources.Payments`)."""
        return _resources.Payments(self)

    @functools.cached_property
    def patient_attachments(self) -> _resources.PatientAttachments:
        """The Patient Attachment operations (:class:`~pracsuite_async.resources.PatientAttachments`)."""
        return _resources.PatientAttachments(self)

    @functools.cached_property
    def patient_attachment_folders(self) -> _resources.PatientAttachmentFolders:
        """The Patient Attachment operations."""
        return _resources.PatientAttachmentFolders(self)

    @functools.cached_property
    def patient_contacts(self) -> _resources.PatientContacts:
        """The Patient Contact operations (:class:`~pracsuite_async.resources.PatientContacts`)."""
        return _resources.PatientContacts(self)

    @functools.cached_property
    def practitioners(self) -> _resources.Practitioners:
        """The Practitioner operations (:class:`~pracsuite_async.resources.Practitioners`)."""
        return _resources.Practitioners(self)

    @functools.cached_property
    def professions(self) -> _resources.Professions:
        """The Profession operations (:class:`~pracsuite_async.resources.Professions`)."""
        return _resources.Professions(self)

    @functools.cached_property
    def pronouns(self) -> _resources.Pronouns:
        """The Pronoun operations (:class:`~pracsuite_async.resources.Pronouns`)."""
        return _resources.Pronouns(self)

    @functools.cached_property
    def sexes(self) -> _resources.Sexes:
        """The Sex operations (:class:`~pracsuite_async.resources.Sexes`)."""
        return _resources.Sexes(self)

    @functools.cached_property
    def resources(self) -> _resources.Resources:
        """The Resource operations (:class:`~pracsuite_async.resources.Resources`)."""
        return _resources.Resources(self)

    @functools.cached_property
    def tag_categories(self) -> _resources.TagCategories:
        """The Tag Category operations (:class:`~pracsuite_async.resources.TagCategories`)."""
        return _resources.TagCategories(self)

    # ---- End of the generated resource namespaces. ----

    def __repr__(self) -> str:
        # getattr: error trackers repr a client whose constructor raised half-way.
        base_url = redact_url(getattr(self, "base_url", "?"))
        return f"PracSuiteClient(base_url={base_url!r}, limiter={getattr(self, 'limiter', None)!r})"

    def __reduce__(self) -> Any:
        msg = "PracSuiteClient holds live connections and keys; it cannot be pickled"
        raise TypeError(msg)

    @property
    def stats(self) -> ClientStats:
        """A snapshot of the client's counters."""
        p = self._pipeline
        limiter = self.limiter
        return ClientStats(
            requests_sent=p.requests_sent,
            retries=p.retries,
            throttled=p.throttled,
            rate_limit_wait=getattr(limiter, "total_wait", 0.0),
            current_rate=getattr(limiter, "rate", None),
        )

    def with_options(
        self,
        *,
        deadline: float | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, str] | None = None,
        priority: Priority | None = None,
    ) -> PracSuiteClient:
        """A view of this client with other per-call defaults (``None`` keeps this client's).

        The view shares the connection pool, the rate budget, the concurrency cap and the
        lifecycle: it costs a few small objects, closing this client closes it, and its own
        :meth:`aclose` does nothing. ``extra_headers`` and ``extra_query`` add to this
        client's; key headers cannot be set this way. ``priority="bulk"`` puts the view's
        requests in the bulk lane, behind interactive calls on the same budget.
        """
        values = check_options(
            where="client", deadline=deadline, timeout=timeout, max_retries=max_retries,
            extra_headers=extra_headers, extra_query=extra_query, priority=priority,
        )
        return self._view(self._defaults.merged(**values))

    def for_account(self, account_key: str) -> PracSuiteClient:
        """A view of this client for another clinic: same vendor key, pool and rate budget.

        The API limits requests per vendor key, so every clinic of one vendor shares one
        budget; the views take turns at it round-robin, and one clinic's bulk walk delays
        another's call by about one token interval. Closing this client closes the view.
        """
        account = _key(account_key, ENV_ACCOUNT_KEY, "account key")
        del account_key  # error trackers record frame locals
        keys = {**self._keys, "A-api-key": account}
        headers = SecretHeaders({"User-Agent": USER_AGENT, "Accept": "application/json"}, keys)
        defaults = self._defaults
        if defaults.extra_headers:
            headers = headers.with_public(dict(defaults.extra_headers))
        view = self._view(attrs.evolve(defaults, headers=headers, account=object()))
        view._keys = keys
        return view

    def _view(self, defaults: CallOptions) -> PracSuiteClient:
        view = object.__new__(PracSuiteClient)
        view.__dict__.update({k: v for k, v in self.__dict__.items() if k not in NAMESPACES})
        view._defaults = defaults
        view._is_view = True
        return view

    def _call_options(self, args: Mapping[str, object]) -> CallOptions:
        """This client's defaults with the call's own options applied (validated, before sending)."""
        get = args.get
        if (
            get("timeout") is None and get("max_retries") is None and get("priority") is None
            and get("extra_headers") is None and get("extra_query") is None
        ):
            return self._defaults
        values = check_options(
            where="call", timeout=get("timeout"), max_retries=get("max_retries"), priority=get("priority"),
            extra_headers=get("extra_headers"), extra_query=get("extra_query"),
        )
        return self._defaults.merged(**values)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        json: object = None,
        deadline: float | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        priority: Priority | None = None,
    ) -> object:
        """Call an operation the endpoint table lacks; return the decoded JSON (``None`` for no body).

        The request takes the same path as every method: deadline, concurrency slot, rate
        limiter, retries (GET always; other methods only when provably not sent, unless
        ``idempotent=True``), typed errors and redaction. ``path`` is relative to the base
        URL (``"/tag"``); ``params`` are URL-encoded, ``json`` is sent as the body.
        """
        self._ensure_usable()
        req = raw_request(method, path, params=params, json=json)
        args = {
            "deadline": deadline, "timeout": timeout, "max_retries": max_retries,
            "extra_headers": extra_headers, "priority": priority,
        }
        return await self._pipeline.call(
            req, deadline=check_deadline(deadline), idempotent=idempotent, options=self._call_options(args)
        )

    async def __aenter__(self) -> Self:
        self._ensure_usable()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client for good; idempotent.

        Cancels and awaits the client's own background fetches (of list walks not
        yet closed), then closes the connection pool (only if the client created
        it). Calls made afterwards raise :class:`~pracsuite_async.ClientClosedError`,
        on this client and on all its views. On a view (:meth:`with_options`,
        :meth:`for_account`) this does nothing: the views share the parent's pool.
        """
        if self._is_view:
            return
        life = self._life
        life.closed = True
        if life.loop is not None and life.loop is not asyncio.get_running_loop():
            raise EventLoopMismatchError
        current = asyncio.current_task()
        # A walk nobody resumes then logs nothing; a resumed walk still raises its failure.
        await cancel_and_wait([task for task in self._tasks if task is not current])
        await self._transport.aclose()
        if self._limit_memory is not None and isinstance(self.limiter, AdaptiveRateLimiter):
            self._limit_memory.flush(self.limiter)

    def _ensure_open(self) -> None:
        if self._life.closed:
            raise ClientClosedError

    def _ensure_usable(self) -> None:
        """Raise unless the client is open and this is its event loop (binding it on first use)."""
        life = self._life
        if life.closed:
            raise ClientClosedError
        loop = asyncio.get_running_loop()
        if loop is not life.loop:
            if life.loop is not None:
                raise EventLoopMismatchError
            life.loop = loop

    def _owned_task(self) -> _OwnedTask:
        """Run the current (internal) task as one :meth:`aclose` cancels; it then fails as closed."""
        return _OwnedTask(self._tasks, self._life)


class _OwnedTask:
    """``with client._owned_task():`` a class, not a generator: it wraps every page fetch."""

    __slots__ = ("life", "task", "tasks")

    def __init__(self, tasks: set[asyncio.Task[Any]], life: _Lifecycle) -> None:
        self.tasks = tasks
        self.life = life
        self.task: asyncio.Task[Any] | None = None

    def __enter__(self) -> None:
        task = self.task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        task = self.task
        if task is None:  # pragma: no cover - only used from inside tasks
            return
        self.tasks.discard(task)
        if exc_type is not None and issubclass(exc_type, asyncio.CancelledError) and self.life.closed:
            # Cancelled by aclose(): whoever awaits this fetch learns why, not a bare cancel.
            task.uncancel()
            raise ClientClosedError from None


class _Lifecycle:
    """Closed state and event-loop binding, shared by a client and its views."""

    __slots__ = ("closed", "loop")

    def __init__(self) -> None:
        self.closed = False
        self.loop: asyncio.AbstractEventLoop | None = None


def _check_settings(
    *,
    allow_insecure: object,
    max_concurrency: object,
    retry: object,
    timeout: object,
    deadline: object,
    page_window: object,
    transport: object,
    clock: object,
    event_hooks: object,
    rng: object,
    max_response_bytes: object,
    max_download_bytes: object,
) -> tuple[EventHook, ...]:
    """Check every setting's type and range up front (``rate_limit``/``burst`` in ``_make_limiter``).

    Returns the event hooks as a tuple. Messages name the setting, never its value.
    """
    for name, number in (
        ("max_concurrency", max_concurrency),
        ("page_window", page_window),
        ("max_response_bytes", max_response_bytes),
        ("max_download_bytes", max_download_bytes),
    ):
        _check_positive_int(name, number)
    for name, seconds in (("timeout", timeout), ("deadline", deadline)):
        if seconds is not None and not is_seconds(seconds):
            msg = f"{name} must be a finite positive number of seconds or None"
            raise ConfigurationError(msg)
    if not isinstance(allow_insecure, bool):
        msg = "allow_insecure must be a bool"
        raise ConfigurationError(msg)
    for name, value, kind, what in (
        ("retry", retry, RetryPolicy, "a RetryPolicy"),
        ("transport", transport, Transport, "a Transport"),
        ("clock", clock, Clock, "a Clock"),
        ("rng", rng, random.Random, "a random.Random"),
    ):
        if value is not None and not isinstance(value, kind):
            msg = f"{name} must be {what} or None"
            raise ConfigurationError(msg)
    if isinstance(event_hooks, str | bytes) or not isinstance(event_hooks, Iterable):
        msg = "event_hooks must be a sequence of callables"
        raise ConfigurationError(msg)
    hooks = tuple(event_hooks)
    if not all(callable(hook) for hook in hooks):
        msg = "event_hooks must contain only callables"
        raise ConfigurationError(msg)
    return hooks


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{name} must be a positive integer"
        raise ConfigurationError(msg)


def _make_limiter(rate_limit: object, burst: object, clock: Clock, max_pause: float) -> RateLimiter:
    if rate_limit is None:
        cap = check_burst(burst)
        return AdaptiveRateLimiter(DEFAULT_SEED_RATE, burst=cap, clock=clock, max_pause=max_pause)
    if isinstance(rate_limit, int | float) and not isinstance(rate_limit, bool):
        rate, cap = check_rate("rate_limit", rate_limit), check_burst(burst)
        return AdaptiveRateLimiter(rate, ceiling=rate, burst=cap, clock=clock, max_pause=max_pause)
    if isinstance(rate_limit, RateLimiter):
        return rate_limit
    from aiolimiter import AsyncLimiter  # noqa: PLC0415 - only needed for this branch

    if isinstance(rate_limit, AsyncLimiter):
        return AiolimiterAdapter(rate_limit, clock=clock, max_pause=max_pause)
    msg = "rate_limit must be a number of requests per second, a limiter or None"
    raise ConfigurationError(msg)
