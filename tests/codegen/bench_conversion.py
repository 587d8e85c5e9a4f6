"""Conversion cost per record, bytes -> objects, for a 100-record ``GET /appointment`` page.

Run: ``.venv/bin/python tests/codegen/bench_conversion.py`` (no asserts; numbers only).
Compares orjson + :func:`pracsuite_async._converter.structure_list` with msgspec and
pydantic v2 on the same schema (PERFORMANCE-NOTES.md 1c: aim <= 4x msgspec, < pydantic).
"""

from __future__ import annotations

import random
import timeit
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import orjson
import pydantic

from pracsuite_async._converter import structure_list
from pracsuite_async.models import Appointment

RECORDS = 100


def page(n: int = RECORDS) -> bytes:
    """A page shaped like the spec's ``Appointment`` list (all fields, links, row counters)."""
    rng = random.Random(7)
    base = datetime(2025, 1, 1, 8, tzinfo=UTC)
    rows = []
    for i in range(1, n + 1):
        created = base + timedelta(seconds=rng.randrange(10**7), microseconds=rng.randrange(10**6))
        rows.append(
            {
                "row_num": i,
                "total_rows": 5000,
                "links": {
                    "self": f"https://api.pracsuite.com/v1/appointment/{i}",
                    "resources": f"https://api.pracsuite.com/v1/appointment/{i}/resource",
                },
                "tenant_id": 1,
                "appointment_id": i,
                "client_id": rng.randrange(1, 5000),
                "app_time": (base + timedelta(minutes=15 * i)).strftime("%Y-%m-%dT%H:%M:%S"),
                "description": "Physio initial consult",
                "appointment_type_id": rng.randrange(1, 30),
                "appointment_status_id": rng.randrange(1, 6),
                "category": "Appointment",
                "duration": 30,
                "notes": "Bring referral letter",
                "practitioner_id": rng.randrange(1, 20),
                "business_id": rng.randrange(1, 4),
                "profession_id": rng.randrange(1, 6),
                "item_id": rng.randrange(1, 60),
                "account_id": rng.randrange(1, 6000),
                "created": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "modified": (created + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "item_group_id": None,
                "telehealth_patient_link": None,
                "telehealth_practitioner_link": None,
                "resource_ids": [1, 2],
            }
        )
    links = {"self": "https://api.pracsuite.com/v1/appointment?page=2"}
    return orjson.dumps({"appointments": rows, "total_entries": 5000, "links": links})


class MsLinks(msgspec.Struct):
    self: str | None = None
    resources: str | None = None


class MsAppointment(msgspec.Struct):
    row_num: int | None = None
    total_rows: int | None = None
    links: MsLinks | None = None
    tenant_id: int | None = None
    appointment_id: int | None = None
    client_id: int | None = None
    app_time: datetime | None = None
    description: str | None = None
    appointment_type_id: int | None = None
    appointment_status_id: int | None = None
    category: str | None = None
    duration: int | None = None
    notes: str | None = None
    practitioner_id: int | None = None
    business_id: int | None = None
    profession_id: int | None = None
    item_id: int | None = None
    account_id: int | None = None
    created: datetime | None = None
    modified: datetime | None = None
    item_group_id: int | None = None
    telehealth_patient_link: str | None = None
    telehealth_practitioner_link: str | None = None
    resource_ids: list[int] | None = None


class MsPage(msgspec.Struct):
    appointments: list[MsAppointment]
    total_entries: int | None = None
    links: dict[str, Any] | None = None


class PdLinks(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")
    self: str | None = None
    resources: str | None = None


class PdAppointment(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")
    row_num: int | None = None
    total_rows: int | None = None
    links: PdLinks | None = None
    tenant_id: int | None = None
    appointment_id: int | None = None
    client_id: int | None = None
    app_time: datetime | None = None
    description: str | None = None
    appointment_type_id: int | None = None
    appointment_status_id: int | None = None
    category: str | None = None
    duration: int | None = None
    notes: str | None = None
    practitioner_id: int | None = None
    business_id: int | None = None
    profession_id: int | None = None
    item_id: int | None = None
    account_id: int | None = None
    created: datetime | None = None
    modified: datetime | None = None
    item_group_id: int | None = None
    telehealth_patient_link: str | None = None
    telehealth_practitioner_link: str | None = None
    resource_ids: list[int] | None = None


class PdPage(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")
    appointments: list[PdAppointment]
    total_entries: int | None = None
    links: dict[str, Any] | None = None


def measure(paths: dict[str, Any], body: bytes, number: int = 100, rounds: int = 15) -> dict[str, float]:
    """µs per record for each path: best of ``rounds`` interleaved rounds (ABAB, so load spikes hit all)."""
    runs: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, fn in paths.items():
            runs[name].append(timeit.timeit(lambda fn=fn: fn(body), number=number))
    return {name: min(times) / number / RECORDS * 1e6 for name, times in runs.items()}


def main() -> None:
    """Print µs/record and the ratio to msgspec for each path."""
    body = page()
    ms_decoder = msgspec.json.Decoder(MsPage)
    pd_adapter = pydantic.TypeAdapter(PdPage)
    pydantic_name = "pydantic TypeAdapter.validate_json"
    paths = {
        "msgspec Decoder(Page)": ms_decoder.decode,
        "orjson.loads only (dicts)": orjson.loads,
        "orjson + structure_list (ours)": lambda b: structure_list(orjson.loads(b)["appointments"], Appointment),
        pydantic_name: pd_adapter.validate_json,
    }
    assert len(paths["orjson + structure_list (ours)"](body)) == RECORDS
    results = measure(paths, body)
    base = results["msgspec Decoder(Page)"]
    print(f"{RECORDS}-record Appointment page, {len(body)} bytes")
    for name, us in results.items():
        print(f"  {name:38s} {us:6.2f} µs/record  {us / base:5.2f}x msgspec")
    print(f"  ours vs pydantic: {results['orjson + structure_list (ours)'] / results[pydantic_name]:.2f}x")


if __name__ == "__main__":
    main()
