"""Seeded ``GET /appointment`` page bodies, pre-encoded once and stamped with ids per request.

The pure-overhead and memory cases need a server that is never the bottleneck, so
bodies are not built per request. A small pool of records shaped like the spec's
``AppointmentWithMeta`` (links, three date-times, ``resource_ids``, row counters,
optional nulls) is JSON-encoded once with a marker where the record's position
goes; serving page ``p`` only joins those byte pieces around the positions of
that page. Ids therefore ascend across pages exactly like a real walk sorted by
``appointment_id``, so the client's dedupe keeps every record and a walk can be
checked for completeness, while the server spends ~15 µs per page.

Two record shapes (``SHAPES``): ``exact`` has exactly the spec's
``AppointmentWithMeta`` fields, the contract the baselines are held to as well;
``realistic`` is what a real server sends: three optional fields absent
(``item_group_id`` and the two telehealth links) and one unknown nested field
(``custom_fields``). Cases 2 and 5 report both.
"""

from __future__ import annotations

import json
import random
from typing import Any

__all__ = ["SHAPES", "PageTemplate", "appointment_records", "page_body", "reshape"]

#: Record shapes the benchmarks report side by side.
SHAPES = ("exact", "realistic")
_ABSENT = ("item_group_id", "telehealth_patient_link", "telehealth_practitioner_link")

_MARK = -7_777_777  # a number no generated field takes; replaced by the record's position
_ORIGIN = "https://api.pracsuite.com/v1"
_TYPES = (
    ("Podiatry Initial Consultation", 60),
    ("Podiatry Standard Consultation", 30),
    ("Physiotherapy Initial Assessment", 45),
    ("Physiotherapy Follow Up", 30),
    ("Dietetics Review", 30),
    ("Hand Therapy Splint Fitting", 45),
)
_NOTES = ("", "", "", "", "", "Prefers afternoon", "Bring imaging", "Running late")


def _stamp(rng: random.Random, year_day: int) -> str:
    month, day = 1 + year_day // 28 % 12, 1 + year_day % 28
    return (
        f"2025-{month:02d}-{day:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:"
        f"{rng.randrange(60):02d}.{rng.randrange(1_000_000):06d}Z"
    )


def _record(rng: random.Random, n: int, total: int) -> dict[str, Any]:
    description, duration = _TYPES[rng.randrange(len(_TYPES))]
    day = rng.randrange(300)
    telehealth = rng.random() < 0.2
    return {
        "links": {"self": f"{_ORIGIN}/appointment/{n}", "resources": f"{_ORIGIN}/appointment/{n}/resource"},
        "tenant_id": 1,
        "appointment_id": n,
        "client_id": rng.randrange(1, 20_000),
        "app_time": f"2025-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T{rng.randrange(8, 18):02d}:"
        f"{15 * rng.randrange(4):02d}:00",
        "description": description,
        "appointment_type_id": 1 + _TYPES.index((description, duration)),
        "appointment_status_id": rng.choice((1, 2, 3, 4, 4, 4, 5)),
        "category": "Appointment",
        "duration": duration,
        "notes": rng.choice(_NOTES),
        "practitioner_id": rng.randrange(1, 40),
        "business_id": rng.randrange(1, 4),
        "profession_id": rng.randrange(1, 6),
        # Optional fields are sometimes null, as in the simulator's data.
        "item_id": rng.randrange(1, 60) if rng.random() < 0.8 else None,
        "account_id": rng.randrange(1, 22_000),
        "created": _stamp(rng, day),
        "modified": _stamp(rng, day + 2),
        "item_group_id": rng.randrange(1, 10) if rng.random() < 0.1 else None,
        "telehealth_patient_link": f"https://telehealth.example.com/a/{n}" if telehealth else None,
        "telehealth_practitioner_link": f"https://telehealth.example.com/host/{n}" if telehealth else None,
        "resource_ids": [rng.randrange(1, 30) for _ in range(rng.randrange(3))],
        "column_number": 1,
        "width": 1,
        "row_num": n,
        "total_rows": total,
    }


def reshape(record: dict[str, Any], shape: str) -> dict[str, Any]:
    """A spec-exact ``record`` in ``shape``: unchanged, or realistic (optional fields absent, one unknown)."""
    if shape == "exact":
        return record
    out = {k: v for k, v in record.items() if k not in _ABSENT}
    out["custom_fields"] = {"source": "import", "tags": [1, 2]}
    return out


def appointment_records(count: int, *, seed: int = 0, shape: str = "exact") -> list[dict[str, Any]]:
    """``count`` seeded records in the spec's field order, ``appointment_id``/``row_num`` = 1..count."""
    rng = random.Random(seed)
    records = [_record(rng, n, count) for n in range(1, count + 1)]
    for record in records:
        del record["column_number"], record["width"]
    return [reshape(record, shape) for record in records]


def page_body(records: list[dict[str, Any]], *, total: int, page: int, last_page: int) -> bytes:
    """One list response around ``records``, links included (compact JSON, UTF-8)."""
    links = {"self": f"{_ORIGIN}/appointment?page={page}"}
    if page > 1:
        links["previous"] = f"{_ORIGIN}/appointment?page={page - 1}"
    if page < last_page:
        links["next"] = f"{_ORIGIN}/appointment?page={page + 1}"
    doc = {"appointments": records, "total_entries": total, "links": links}
    return json.dumps(doc, separators=(",", ":")).encode()


class PageTemplate:
    """Bodies of every page of a ``total``-record collection, built by joining pre-encoded pieces."""

    POOL = 64

    def __init__(self, total: int, *, seed: int = 0, shape: str = "exact") -> None:
        self.total = total
        rng = random.Random(seed)
        self._pieces: list[list[bytes]] = []
        for _ in range(self.POOL):
            record = _record(rng, _MARK, total)
            del record["column_number"], record["width"]
            record = reshape(record, shape)
            encoded = json.dumps(record, separators=(",", ":")).encode()
            self._pieces.append(encoded.split(str(_MARK).encode()))

    def body(self, page: int, page_size: int) -> bytes:
        """The body of ``page`` at ``page_size``: records ``(page-1)*page_size+1 ..``, ids ascending."""
        first = (page - 1) * page_size
        count = max(0, min(page_size, self.total - first))
        pieces, pool = self._pieces, self.POOL
        records = []
        for position in range(first + 1, first + count + 1):
            records.append(str(position).encode().join(pieces[position % pool]))
        last_page = max(1, -(-self.total // page_size))
        links = f'{{"self":"{_ORIGIN}/appointment?page={page}"'
        if page < last_page:
            links += f',"next":"{_ORIGIN}/appointment?page={page + 1}"'
        tail = f'],"total_entries":{self.total},"links":{links}}}}}'.encode()
        return b'{"appointments":[' + b",".join(records) + tail
