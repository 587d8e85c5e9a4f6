"""How each listable resource syncs: one declarative row per resource.

A row names the list operation (an ``operationId`` of :data:`~pracsuite_async.OPERATIONS`),
how changes are found and which fields become indexed columns of the mirror.

- ``incremental``: the operation filters on a change marker (``updated`` in the
  spec's ``x-pracsuite-filters``), so a run asks only for records changed since the
  checkpoint. When the record itself carries the marker (appointments: ``modified``)
  the walk is sorted by it and the checkpoint advances page by page; otherwise
  (patients carry no update time) it advances when the walk completes.
- ``full``: small lookups without a change filter are walked whole every run and
  diffed against the mirror (changed rows upserted, missing rows deleted).

Removals the API exposes are applied from a deletion feed (appointments: the
``cancelled_appointment`` list with ``include_deletions``); a periodic full
reconcile removes the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import attrs

from pracsuite_async import OPERATIONS, Endpoint

__all__ = ["RESOURCES", "Column", "DeletionFeed", "ResourceSync", "resolve"]

Mode = Literal["incremental", "full"]
ColumnType = Literal["int", "text"]

#: Fields of list elements that describe the response, not the record (positions,
#: links with the server's host); left out of the mirror so a re-fetch compares equal.
VOLATILE_FIELDS = frozenset({"row_num", "total_rows", "links"})


@attrs.frozen
class Column:
    """An indexed column of a resource's mirror table, copied from the record's wire JSON."""

    name: str
    type: ColumnType = "int"


@attrs.frozen
class DeletionFeed:
    """A list operation whose records name removed rows of another resource.

    Attributes:
        operation: The feed's ``operationId`` (e.g. ``listCancelledAppointments``).
        args: Extra keyword arguments of its ``list`` call (``include_deletions=True``).
        marker_filter: The change filter the feed is walked by.
    """

    operation: str
    args: Mapping[str, Any] = attrs.field(factory=dict)
    marker_filter: str = "updated"


@attrs.frozen
class ResourceSync:
    """How one resource syncs.

    Attributes:
        name: The resource name (the client namespace), also the mirror's table name.
        operation: The ``operationId`` of its list operation.
        mode: ``incremental`` (by ``marker_filter``) or ``full`` (walk and diff).
        marker_filter: The ``q[]`` timestamp field of changes (``updated``).
        marker_field: The record attribute holding that timestamp, if the record has one.
        marker_sorts: Names to sort by the marker, tried in order (the accepted
            sort fields differ between revisions of the client's validation).
        columns: Indexed columns besides the id.
        args: Extra keyword arguments of the ``list`` call.
        deletions: The feed of removals, when the API has one.
    """

    name: str
    operation: str
    mode: Mode = "full"
    marker_filter: str | None = None
    marker_field: str | None = None
    marker_sorts: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    args: Mapping[str, Any] = attrs.field(factory=dict)
    deletions: DeletionFeed | None = None

    @property
    def endpoint(self) -> Endpoint[Any]:
        """The list operation's :class:`~pracsuite_async.Endpoint` row."""
        return OPERATIONS[self.operation]

    @property
    def id_field(self) -> str:
        """The record's id attribute (``appointment_id``, ``client_id``...)."""
        id_field = self.endpoint.id_field
        assert id_field is not None  # noqa: S101 - every row's operation has one (tested)
        return id_field


def _incremental(name: str, operation: str, *columns: Column, marker: str | None = None) -> ResourceSync:
    return ResourceSync(
        name,
        operation,
        mode="incremental",
        marker_filter="updated",
        marker_field=marker,
        marker_sorts=("updated", marker) if marker else (),
        columns=columns,
    )


_DIARY = (Column("practitioner_id"), Column("business_id"), Column("app_time", "text"))
_CANCELLATIONS = DeletionFeed("listCancelledAppointments", {"include_deletions": True})

_ROWS = (
    attrs.evolve(
        _incremental("appointments", "listAppointments", Column("client_id"), *_DIARY, marker="modified"),
        deletions=_CANCELLATIONS,
    ),
    _incremental("notes", "listNotes", *_DIARY, marker="modified"),
    _incremental("rule_outs", "listRuleOuts", *_DIARY),
    attrs.evolve(
        _incremental("cancelled_appointments", "listCancelledAppointments", Column("client_id"), *_DIARY),
        args={"include_deletions": True},
    ),
    _incremental("patients", "listPatients"),
    _incremental("practitioners", "listPractitioners"),
    _incremental("businesses", "listBusinesses"),
    _incremental("professions", "listProfessions"),
    _incremental("appointment_types", "listAppointmentTypes"),
    ResourceSync("patient_contacts", "listPatientContacts", columns=(Column("client_id"),)),
    ResourceSync("appointment_statuses", "listAppointmentStatuses"),
    ResourceSync("cancellation_reasons", "listCancellationReasons"),
    ResourceSync("reschedule_reasons", "listRescheduleReasons"),
    ResourceSync("fee_categories", "listFeeCategories"),
    ResourceSync("items", "listItems"),
    ResourceSync("item_groups", "listItemGroups"),
    ResourceSync("pronouns", "listPronouns"),
    ResourceSync("sexes", "listSexes"),
    ResourceSync("resources", "listResources"),
    ResourceSync("tag_categories", "listTagCategories"),
)

#: Every resource :func:`~pracsuite_async.sync.sync` can mirror, by name.
RESOURCES: Mapping[str, ResourceSync] = MappingProxyType({row.name: row for row in _ROWS})


def resolve(resource: str | ResourceSync) -> ResourceSync:
    """The row for a resource name (``appointments``), or the row itself.

    Raises:
        ValueError: the name is not a syncable resource.
    """
    if isinstance(resource, ResourceSync):
        return resource
    row = RESOURCES.get(resource.replace("-", "_"))
    if row is None:
        msg = f"not a syncable resource; choose from: {', '.join(sorted(RESOURCES))}"
        raise ValueError(msg)
    return row
