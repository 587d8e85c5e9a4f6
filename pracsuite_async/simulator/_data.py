"""The simulator's dataset: plain dicts keyed by id, generated deterministically from a seed.

Records hold the API's public fields under their wire names, in wire order,
without ``links``/``row_num``/``total_rows`` (added per request). Keys that
start with ``_`` are private: filter-only values (``_updated``, ``_archived_at``),
relations (``_kind``, ``_folder_id``) and detail-only blocks; they are never sent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

Record = dict[str, Any]

TENANT_ID = 1
TENANT_TIMEZONE = "Australia/Sydney"
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY_STRINGS: dict[int, str] = {}

#: Every table of a dataset, with the id sequence its new records draw from.
TABLE_SEQUENCES: dict[str, str] = {
    "businesses": "businesses",
    "practitioners": "practitioners",
    "practitioner_businesses": "practitioner_businesses",
    "professions": "professions",
    "appointment_types": "appointment_types",
    "appointment_statuses": "appointment_statuses",
    "cancellation_reasons": "cancellation_reasons",
    "reschedule_reasons": "reschedule_reasons",
    "fee_categories": "fee_categories",
    "items": "items",
    "item_groups": "item_groups",
    "resources": "resources",
    "pronouns": "pronouns",
    "sexes": "sexes",
    "tag_categories": "tag_categories",
    "patients": "patients",
    "accounts": "accounts",
    "contacts": "contacts",
    "attachment_folders": "attachment_folders",
    "attachments": "attachments",
    # Appointments, notes, rule outs, group appointments, holds and cancellations
    # share one id space, as the API's paths (/note/{appointment_id}...) imply.
    "diary": "appointments",
    "cancelled": "appointments",
    "group_members": "group_members",
    "invoices": "invoices",
    "payments": "payments",
}


def day_string(ordinal: int) -> str:
    """``YYYY-MM-DD`` of a proleptic Gregorian ordinal (memoised: a few hundred distinct days)."""
    text = _DAY_STRINGS.get(ordinal)
    if text is None:
        text = _DAY_STRINGS[ordinal] = date.fromordinal(ordinal).isoformat()
    return text


_HOUR_MINUTE = tuple(f"T{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_SECOND = tuple(f"{s:02d}." for s in range(60))
_EPOCH_DAYS: dict[int, str] = {}


def fmt_timestamp(epoch_seconds: int, micros: int) -> str:
    """UTC timestamp ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fraction digits, so strings sort)."""
    days, rem = divmod(epoch_seconds, 86_400)
    prefix = _EPOCH_DAYS.get(days)
    if prefix is None:
        prefix = _EPOCH_DAYS[days] = day_string(days + _EPOCH_ORDINAL)
    return f"{prefix}{_HOUR_MINUTE[rem // 60]}{_SECOND[rem % 60]}{micros:06d}Z"


def epoch_of_ordinal(ordinal: int) -> int:
    """Epoch seconds of midnight UTC on the given ordinal day."""
    return (ordinal - _EPOCH_ORDINAL) * 86_400


def timestamp_now(wall: float) -> str:
    """Format an epoch float (``time.time()``) as an API timestamp."""
    whole = int(wall)
    return fmt_timestamp(whole, int((wall - whole) * 1_000_000))


@attrs.define(eq=False, repr=False)
class Dataset:
    """All records of one simulated clinic (tenant), by table name and id.

    ``tables`` maps a table name (see :data:`TABLE_SEQUENCES`) to ``{id: record}``
    in ascending id order. The simulator mutates these dicts in place (creates,
    edits, cancellations), so a dataset belongs to one simulator at a time.
    """

    seed: int
    records: int
    today: date
    tables: dict[str, dict[int, Record]]
    next_ids: dict[str, int] = attrs.field(factory=dict)
    tenant_id: int = TENANT_ID
    tenant_timezone: str = TENANT_TIMEZONE

    def table(self, name: str) -> dict[int, Record]:
        """The records of table ``name`` by id."""
        return self.tables[name]

    def new_id(self, table: str) -> int:
        """Allocate the next id for a new record of ``table``."""
        seq = TABLE_SEQUENCES[table]
        value = self.next_ids[seq]
        self.next_ids[seq] = value + 1
        return value

    def counts(self) -> dict[str, int]:
        """Number of records per table."""
        return {name: len(rows) for name, rows in self.tables.items()}

    def __repr__(self) -> str:
        """Seed, size and today's date; the records themselves are too many to show."""
        return f"<Dataset seed={self.seed} records={self.records} today={self.today.isoformat()}>"
