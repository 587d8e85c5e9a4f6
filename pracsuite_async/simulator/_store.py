"""In-memory tables with lazy secondary indexes, cached query results and the diary's slot index.

Common list paths never scan the whole table per request: candidates come from
an index (or the table's id order), and the sorted id list of each distinct
(view, scope, filters, sort) is cached until the table changes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from pracsuite_async.simulator._data import Dataset, Record
from pracsuite_async.simulator._http import dumps
from pracsuite_async.simulator._query import Filter, Sort, compile_filter, sort_ids
from pracsuite_async.simulator._rules import BLOCKING_KINDS, columns_overlap, parse_local

#: Pseudo-field of a scope: candidates are exactly these ids (e.g. an appointment's resource_ids).
IDS = "#ids"
#: A value for :meth:`Table.update` that removes the key (optional fields are omitted, not null).
DELETE: Any = object()
Scope = tuple[tuple[str, Any], ...]
_CACHE_SIZE = 64


class Table:
    """One table's rows plus indexes (built on first use, then maintained) and encoded JSON."""

    __slots__ = ("_encoded", "_indexes", "name", "rows", "version")

    def __init__(self, name: str, rows: dict[int, Record]) -> None:
        """Wrap ``rows`` (shared with the dataset, mutated in place)."""
        self.name = name
        self.rows = rows
        self.version = 0
        self._indexes: dict[str, dict[Any, dict[int, None]]] = {}
        self._encoded: dict[int, str] = {}

    def index(self, field: str) -> dict[Any, dict[int, None]]:
        """Ids by value of ``field`` (list/tuple fields index each element)."""
        idx = self._indexes.get(field)
        if idx is None:
            idx = self._indexes[field] = {}
            for rid, rec in self.rows.items():
                _index_add(idx, rec.get(field), rid)
        return idx

    def add(self, rid: int, rec: Record) -> None:
        """Insert a new record."""
        self.rows[rid] = rec
        for field, idx in self._indexes.items():
            _index_add(idx, rec.get(field), rid)
        self.version += 1

    def update(self, rid: int, changes: Record) -> Record:
        """Apply ``changes`` to a record in place, keeping indexes and caches right."""
        rec = self.rows[rid]
        for field, idx in self._indexes.items():
            if field in changes:
                _index_remove(idx, rec.get(field), rid)
                _index_add(idx, None if changes[field] is DELETE else changes[field], rid)
        for key, value in changes.items():
            if value is DELETE:
                rec.pop(key, None)
            else:
                rec[key] = value
        self._encoded.pop(rid, None)
        self.version += 1
        return rec

    def remove(self, rid: int) -> Record:
        """Delete a record and return it."""
        rec = self.rows.pop(rid)
        for field, idx in self._indexes.items():
            _index_remove(idx, rec.get(field), rid)
        self._encoded.pop(rid, None)
        self.version += 1
        return rec

    def members(self, rid: int) -> str:
        """The record's public fields as compact JSON *without* the opening brace (cached until it changes).

        Responses splice ``row_num``/``links`` in front, so keeping the text brace-less saves a
        copy per record. Every table's records have at least one public field.
        """
        text = self._encoded.get(rid)
        if text is None:
            rec = self.rows[rid]
            text = self._encoded[rid] = dumps({k: v for k, v in rec.items() if k[0] != "_"})[1:]
        return text

    def prewarm(self) -> None:
        """Encode every record now instead of on first use."""
        for rid in self.rows:
            self.members(rid)


def _values(value: Any) -> Iterable[Any]:
    if isinstance(value, list | tuple):
        return value
    return (value,)


def _index_add(idx: dict[Any, dict[int, None]], value: Any, rid: int) -> None:
    for v in _values(value):
        idx.setdefault(v, {})[rid] = None


def _index_remove(idx: dict[Any, dict[int, None]], value: Any, rid: int) -> None:
    for v in _values(value):
        bucket = idx.get(v)
        if bucket is not None:
            bucket.pop(rid, None)


class Store:
    """The live state: tables over a :class:`Dataset`, reservation holds and the slot index."""

    def __init__(self, dataset: Dataset, *, clock: Callable[[], float], hold_seconds: float) -> None:
        """Wrap ``dataset``; ``clock`` and ``hold_seconds`` govern reservation expiry."""
        self.dataset = dataset
        self.tables = {name: Table(name, rows) for name, rows in dataset.tables.items()}
        self.clock = clock
        self.hold_seconds = hold_seconds
        self.holds: dict[int, Record] = {}
        self._cache: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()
        self._slots: dict[tuple[int, int, int], dict[int, None]] | None = None

    def table(self, name: str) -> Table:
        """The table called ``name``."""
        return self.tables[name]

    # -- queries -------------------------------------------------------------------------------

    def query(
        self, view: str, table: Table, scope: Scope, filters: tuple[Filter, ...], sort: Sort
    ) -> list[int]:
        """Ids matching scope and filters, in sort order (cached per table version)."""
        key = (view, table.name, table.version, scope, filters, sort)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        ids = self._candidates(table, scope)
        if filters:
            preds = [compile_filter(f) for f in filters]
            rows = table.rows
            ids = [i for i in ids if all(p(rows[i]) for p in preds)]
        if sort:
            sort_ids(ids, table.rows, sort)
        self._cache[key] = ids
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return ids

    def _candidates(self, table: Table, scope: Scope) -> list[int]:
        rows = table.rows
        explicit = next((v for f, v in scope if f == IDS), None)
        pairs = [(f, v) for f, v in scope if f != IDS]
        if explicit is not None:
            ids = sorted({i for i in explicit if i in rows})
            return [i for i in ids if all(v in _values(rows[i].get(f)) for f, v in pairs)]
        if not pairs:
            return sorted(rows)
        buckets = sorted((table.index(f).get(v, {}) for f, v in pairs), key=len)
        first, rest = buckets[0], buckets[1:]
        return sorted(i for i in first if all(i in b for b in rest))

    # -- diary and conflicts ---------------------------------------------------------------------

    def _slot_index(self) -> dict[tuple[int, int, int], dict[int, None]]:
        if self._slots is None:
            self._slots = {}
            for rid, rec in self.tables["diary"].rows.items():
                self._slot_add(rid, rec)
        return self._slots

    def _slot_add(self, rid: int, rec: Record) -> None:
        if self._slots is None or rec.get("_kind") not in BLOCKING_KINDS:
            return
        start = parse_local(rec["app_time"])
        if start is not None:
            key = (rec["practitioner_id"], rec["business_id"], start // 86_400)
            self._slots.setdefault(key, {})[rid] = None

    def _slot_remove(self, rid: int, rec: Record) -> None:
        if self._slots is None or rec.get("_kind") not in BLOCKING_KINDS:
            return
        start = parse_local(rec["app_time"])
        if start is not None:
            self._slots.get((rec["practitioner_id"], rec["business_id"], start // 86_400), {}).pop(rid, None)

    def diary_add(self, rec: Record) -> None:
        """Insert a diary entry (appointment, note, rule out, group)."""
        self.tables["diary"].add(rec["appointment_id"], rec)
        self._slot_add(rec["appointment_id"], rec)

    def diary_update(self, rid: int, changes: Record) -> Record:
        """Change a diary entry, moving it in the slot index if its place changed."""
        diary = self.tables["diary"]
        self._slot_remove(rid, diary.rows[rid])
        rec = diary.update(rid, changes)
        self._slot_add(rid, rec)
        return rec

    def diary_remove(self, rid: int) -> Record:
        """Delete a diary entry."""
        rec = self.tables["diary"].remove(rid)
        self._slot_remove(rid, rec)
        return rec

    def live_holds(self) -> dict[int, Record]:
        """Reservations that have not expired (expired ones are dropped)."""
        now = self.clock()
        for rid in [rid for rid, h in self.holds.items() if h["_expires"] <= now]:
            del self.holds[rid]
        return self.holds

    def busy(self, practitioner_id: int, business_id: int, day: int) -> list[tuple[int, int, int, int, int]]:
        """Blocking intervals ``(start, end, column, width, id)`` touching ``day`` (ordinal)."""
        slots, rows = self._slot_index(), self.tables["diary"].rows
        out = []
        for d in (day - 1, day):
            for rid in slots.get((practitioner_id, business_id, d), ()):
                rec = rows[rid]
                start = parse_local(rec["app_time"])
                if start is not None:
                    out.append((start, start + rec["duration"] * 60, rec["column_number"], rec["width"], rid))
        for rid, hold in self.live_holds().items():
            if hold["practitioner_id"] == practitioner_id and hold["business_id"] == business_id:
                out.append(
                    (
                        hold["_start"],
                        hold["_start"] + hold["duration"] * 60,
                        hold["column_number"],
                        hold["width"],
                        rid,
                    )
                )
        return out

    def find_conflict(
        self,
        *,
        practitioner_id: int,
        business_id: int,
        start: int,
        duration: int,
        column: int,
        width: int,
        exclude: int | None = None,
    ) -> int | None:
        """Id of an appointment, class, rule out or live hold clashing with the proposed slot."""
        end = start + duration * 60
        day = start // 86_400
        for d in (day, day + 1):
            for s, e, col, w, rid in self.busy(practitioner_id, business_id, d):
                if rid != exclude and s < end and start < e and columns_overlap(col, w, column, width):
                    return rid
        return None
