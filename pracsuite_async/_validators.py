"""Validators of the request models, in the style of :mod:`attrs.validators`.

Each public factory returns a small private callable with a useful ``repr``. Field
validators have the attrs signature ``(instance, attribute, value)``; model rules
take the finished instance and run from ``__attrs_post_init__`` via :func:`check_rules`.

Every failure is a :class:`~pracsuite_async.RequestValidationError` (a
:class:`~pracsuite_async.RequestTypeError` for a wrong Python type) whose message names
the field and the rule, never the value: values are often patient data.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Collection, Iterable
from datetime import date, datetime
from typing import Any, Protocol

import attrs

from pracsuite_async._errors import RequestTypeError, RequestValidationError
from pracsuite_async._types import UNSET

__all__ = [
    "ModelRule",
    "Revision",
    "all_of",
    "at_least",
    "between",
    "boolean",
    "check_rules",
    "date_span",
    "date_value",
    "each",
    "exclusive",
    "integer",
    "is_given",
    "local_datetime",
    "matches",
    "max_length",
    "multiple_of",
    "number",
    "one_of",
    "one_revision",
    "optional",
    "required_with",
    "sequence",
    "string",
    "time_zone",
]

Attribute = attrs.Attribute  # the attrs field a validator is attached to


class ModelRule(Protocol):
    """A cross-field rule: raises :class:`RequestValidationError` for a bad instance."""

    def __call__(self, instance: Any) -> None: ...


def is_given(value: object) -> bool:
    """True unless ``value`` is ``UNSET`` or ``None`` (both mean "not given" to the rules)."""
    return value is not UNSET and value is not None


def check_rules(instance: object, rules: Iterable[ModelRule]) -> None:
    """Run the model rules of ``instance`` in order; the first failure is raised."""
    for rule in rules:
        rule(instance)


# -- type checks --------------------------------------------------------------------------------


@attrs.frozen(repr=False)
class _TypeValidator:
    types: tuple[type, ...]
    label: str

    def __call__(self, inst: object, attr: Attribute[Any], value: Any) -> None:
        # bool is an int subclass and datetime a date subclass; neither is accepted in their place.
        if (
            not isinstance(value, self.types)
            or (isinstance(value, bool) and bool not in self.types)
            or (isinstance(value, datetime) and datetime not in self.types)
        ):
            raise RequestTypeError(attr.name, f"must be {self.label}")

    def __repr__(self) -> str:
        return f"<type validator: {self.label}>"


def integer() -> _TypeValidator:
    """An ``int`` (``bool`` is rejected)."""
    return _TypeValidator((int,), "an integer")


def number() -> _TypeValidator:
    """An ``int`` or ``float`` (``bool`` is rejected)."""
    return _TypeValidator((int, float), "a number")


def string() -> _TypeValidator:
    """A ``str``."""
    return _TypeValidator((str,), "a string")


def boolean() -> _TypeValidator:
    """A ``bool``."""
    return _TypeValidator((bool,), "a boolean")


def date_value() -> _TypeValidator:
    """A ``datetime.date`` (a ``datetime`` is rejected: the API wants a calendar day)."""
    return _TypeValidator((date,), "a date")


@attrs.frozen(repr=False)
class _LocalDateTimeValidator:
    def __call__(self, inst: object, attr: Attribute[Any], value: Any) -> None:
        if not isinstance(value, datetime):
            raise RequestTypeError(attr.name, "must be a datetime")
        if value.tzinfo is not None:
            raise RequestValidationError(attr.name, "must be a naive datetime in the clinic's local time")
        if value.microsecond:  # writes are strict (yyyy-MM-ddTHH:mm:ss): refuse rather than truncate
            raise RequestValidationError(attr.name, "must be whole seconds (no microseconds)")

    def __repr__(self) -> str:
        return "<local datetime validator>"


def local_datetime() -> _LocalDateTimeValidator:
    """A naive ``datetime`` in whole seconds: tenant-local wall-clock time such as ``app_time``."""
    return _LocalDateTimeValidator()


@attrs.frozen(repr=False)
class _SequenceValidator:
    def __call__(self, inst: object, attr: Attribute[Any], value: Any) -> None:
        if not isinstance(value, list | tuple):
            raise RequestTypeError(attr.name, "must be a list")

    def __repr__(self) -> str:
        return "<sequence validator>"


def sequence() -> _SequenceValidator:
    """A ``list`` or ``tuple`` (a ``str`` is not a list of values here)."""
    return _SequenceValidator()


# -- value rules --------------------------------------------------------------------------------


@attrs.frozen(repr=False)
class _BetweenValidator:
    low: int | None
    high: int | None

    def __call__(self, inst: object, attr: Attribute[Any], value: Any) -> None:
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise RequestValidationError(attr.name, self.rule)

    @property
    def rule(self) -> str:
        if self.high is None:
            return f"must be at least {self.low}"
        return f"must be between {self.low} and {self.high}"

    def __repr__(self) -> str:
        return f"<between validator: {self.low}..{self.high}>"


def at_least(low: int) -> _BetweenValidator:
    """A number ``>= low`` (ids are ``>= 1``)."""
    return _BetweenValidator(low, None)


def between(low: int, high: int) -> _BetweenValidator:
    """A number in ``low..high``, both included."""
    return _BetweenValidator(low, high)


@attrs.frozen(repr=False)
class _MultipleOfValidator:
    step: int

    def __call__(self, inst: object, attr: Attribute[Any], value: Any) -> None:
        if value % self.step:
            raise RequestValidationError(attr.name, f"must be a multiple of {self.step}")

    def __repr__(self) -> str:
        return f"<multiple_of validator: {self.step}>"


def multiple_of(step: int) -> _MultipleOfValidator:
    """A number divisible by ``step`` (``duration`` is in steps of 5 minutes)."""
    return _MultipleOfValidator(step)


@attrs.frozen(repr=False)
class _MaxLengthValidator:
    limit: int

    def __call__(self, inst: object, attr: Attribute[Any], value: Any) -> None:
        if len(value) > self.limit:
            raise RequestValidationError(attr.name, f"must be at most {self.limit} characters")

    def __repr__(self) -> str:
        return f"<max_length validator: {self.limit}>"


def max_length(limit: int) -> _MaxLengthValidator:
    """A string of at most ``limit`` characters (the spec's ``maxLength``)."""
    return _MaxLengthValidator(limit)


@attrs.frozen(repr=False)
class _OneOfValidator:
    values: Collection[object]
    label: str

    def __call__(self, inst: object, attr: Attribute[Any], value: Any) -> None:
        if value not in self.values:
            raise RequestValidationError(attr.name, f"must be {self.label}")

    def __repr__(self) -> str:
        return f"<one_of validator: {self.label}>"


def one_of(values: Collection[object], label: str | None = None) -> _OneOfValidator:
    """A value from ``values``; ``label`` describes them in the error (default: lists them)."""
    if label is None:
        label = "one of " + ", ".join(map(str, values))
    return _OneOfValidator(values, label)


@attrs.frozen(repr=False)
class _TimeZoneValidator:
    known: Collection[str]

    def __call__(self, inst: object, attr: Attribute[Any], value: Any) -> None:
        if value in self.known or _is_iana_zone(value):
            return
        raise RequestValidationError(attr.name, "must be an IANA time zone identifier")

    def __repr__(self) -> str:
        return "<time_zone validator>"


@functools.lru_cache(maxsize=256)
def _is_iana_zone(key: str) -> bool:
    # zoneinfo rejects path tricks itself (ValueError); an unknown key is ZoneInfoNotFoundError
    try:
        zoneinfo.ZoneInfo(key)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return True


def time_zone(known: Collection[str]) -> _TimeZoneValidator:
    """An IANA time zone id: one of ``known`` (the guide's advisory list) or any that :mod:`zoneinfo` loads.

    The guide's list is a snapshot, so the server judges ids outside it (``UTC``, ``Europe/Kyiv``).
    """
    return _TimeZoneValidator(known)


@attrs.frozen(repr=False)
class _MatchesValidator:
    pattern: re.Pattern[str]
    label: str

    def __call__(self, inst: object, attr: Attribute[Any], value: Any) -> None:
        if self.pattern.fullmatch(value) is None:
            raise RequestValidationError(attr.name, f"must be {self.label}")

    def __repr__(self) -> str:
        return f"<matches validator: {self.label}>"


def matches(pattern: str, label: str) -> _MatchesValidator:
    """A string matching ``pattern`` in full; ``label`` describes the format in errors."""
    return _MatchesValidator(re.compile(pattern), label)


# -- combinators --------------------------------------------------------------------------------


@attrs.frozen(repr=False)
class _EachValidator:
    validators: tuple[Any, ...]

    def __call__(self, inst: object, attr: Attribute[Any], value: Any) -> None:
        for item in value:
            for validator in self.validators:
                validator(inst, attr, item)

    def __repr__(self) -> str:
        return f"<each validator: {list(self.validators)!r}>"


def each(*validators: Any) -> _EachValidator:
    """Apply ``validators`` to every item of a list (errors name the list field)."""
    return _EachValidator(validators)


@attrs.frozen(repr=False)
class _OptionalValidator:
    validators: tuple[Any, ...]
    nullable: bool

    def __call__(self, inst: object, attr: Attribute[Any], value: Any) -> None:
        if value is UNSET or (value is None and self.nullable):
            return
        for validator in self.validators:
            validator(inst, attr, value)

    def __repr__(self) -> str:
        return f"<optional validator: {list(self.validators)!r}, nullable={self.nullable}>"


def optional(*validators: Any, nullable: bool = False) -> _OptionalValidator:
    """Skip ``UNSET`` (not sent), and ``None`` when ``nullable``; else apply ``validators`` in order."""
    return _OptionalValidator(validators, nullable)


@attrs.frozen(repr=False)
class _AllOfValidator:
    validators: tuple[Any, ...]

    def __call__(self, inst: object, attr: Attribute[Any], value: Any) -> None:
        for validator in self.validators:
            validator(inst, attr, value)

    def __repr__(self) -> str:
        return f"<all_of validator: {list(self.validators)!r}>"


def all_of(*validators: Any) -> _AllOfValidator:
    """Apply ``validators`` in order, for required fields (``UNSET`` fails the type check)."""
    return _AllOfValidator(validators)


# -- model rules --------------------------------------------------------------------------------


@attrs.frozen(repr=False)
class _ExclusiveRule:
    names: tuple[str, ...]

    def __call__(self, instance: Any) -> None:
        given = [name for name in self.names if is_given(getattr(instance, name))]
        if len(given) > 1:
            raise RequestValidationError(given[1], f"cannot be combined with {given[0]}")

    def __repr__(self) -> str:
        return f"<exclusive rule: {' | '.join(self.names)}>"


def exclusive(*names: str) -> _ExclusiveRule:
    """At most one of ``names`` may be given (``item_id`` xor ``item_group_id``)."""
    return _ExclusiveRule(names)


@attrs.frozen(repr=False)
class _RequiredWithRule:
    name: str
    when: str

    def __call__(self, instance: Any) -> None:
        if is_given(getattr(instance, self.when)) and not is_given(getattr(instance, self.name)):
            raise RequestValidationError(self.name, f"is required when {self.when} is given")

    def __repr__(self) -> str:
        return f"<required_with rule: {self.name} if {self.when}>"


def required_with(name: str, when: str) -> _RequiredWithRule:
    """``name`` must be given whenever ``when`` is (availability: ``client_id`` with ``account_id``)."""
    return _RequiredWithRule(name, when)


@attrs.frozen(repr=False)
class _DateSpanRule:
    start: str
    end: str
    max_days: int

    def __call__(self, instance: Any) -> None:
        first, last = getattr(instance, self.start), getattr(instance, self.end)
        if not (isinstance(first, date) and isinstance(last, date)):
            return
        if last < first:
            raise RequestValidationError(self.end, f"must not be before {self.start}")
        if (last - first).days > self.max_days:
            raise RequestValidationError(self.end, f"must be at most {self.max_days} days after {self.start}")

    def __repr__(self) -> str:
        return f"<date_span rule: {self.start}..{self.end} <= {self.max_days} days>"


def date_span(start: str, end: str, max_days: int) -> _DateSpanRule:
    """``end`` is on or after ``start`` and at most ``max_days`` later (availability windows)."""
    return _DateSpanRule(start, end, max_days)


@attrs.frozen
class Revision:
    """One revision of a write body: the fields only it has, and which of them it requires."""

    label: str
    fields: tuple[str, ...]
    required: tuple[str, ...]


@attrs.frozen(repr=False)
class _OneRevisionRule:
    current: Revision
    older: Revision

    def __call__(self, instance: Any) -> None:
        used = {
            rev.label: [name for name in rev.fields if is_given(getattr(instance, name))]
            for rev in (self.current, self.older)
        }
        now, old = used[self.current.label], used[self.older.label]
        if now and old:
            rule = f"cannot be combined with {now[0]}: use the fields of one revision only"
            raise RequestValidationError(old[0], rule)
        chosen = self.older if old else self.current
        for name in chosen.required:
            if not is_given(getattr(instance, name)):
                other = self.current if old else self.older
                rule = f"is required by the {chosen.label} revision (or use {'/'.join(other.required)})"
                raise RequestValidationError(name, rule)

    def __repr__(self) -> str:
        return f"<one_revision rule: {self.current.label} | {self.older.label}>"


def one_revision(current: Revision, older: Revision) -> _OneRevisionRule:
    """Exactly one revision's fields are used, and that revision's required fields are given.

    With none of either revision's fields given, the current revision's are reported missing.
    """
    return _OneRevisionRule(current, older)
