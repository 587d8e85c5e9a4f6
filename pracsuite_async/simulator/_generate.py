"""Deterministic dataset generation: reference data first, then people, then the diary."""

from __future__ import annotations

import gc
import random
from datetime import date

from pracsuite_async.simulator import _bulk, _diarygen, _lookups
from pracsuite_async.simulator._config import DEFAULT_TODAY
from pracsuite_async.simulator._data import TABLE_SEQUENCES, Dataset, Record


def generate_dataset(seed: int = 0, records: int = 2000, *, today: date | None = None) -> Dataset:
    """Build a deterministic clinic: the same ``seed``/``records``/``today`` give identical data.

    ``records`` is the number of patient appointments; other counts scale from
    it (patients ``records // 10``, practitioners ``max(10, records // 2500)``,
    notes 5 %, rule outs 2.5 %, group appointments 1 %, cancellations 5 %, an
    invoice for a quarter of past appointments...). Appointments spread from
    300 days before ``today`` to 65 days after it.
    """
    when = today or DEFAULT_TODAY
    rng = random.Random(f"pracsuite-sim-{seed}")
    tables: dict[str, dict[int, Record]] = {name: {} for name in TABLE_SEQUENCES}
    # Nothing here is cyclic garbage, but the collector would rescan the growing tables
    # over and over: pausing it halves the time for 100k appointments.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _lookups.build_reference(tables, rng, records, when)
        _bulk.build_people(tables, rng, records, when)
        _diarygen.build_diary(tables, rng, records, when)
    finally:
        if collecting:
            gc.enable()
    next_ids: dict[str, int] = {}
    for name, seq in TABLE_SEQUENCES.items():
        top = max(tables[name], default=0) + 1
        next_ids[seq] = max(next_ids.get(seq, 1), top)
    return Dataset(seed=seed, records=records, today=when, tables=tables, next_ids=next_ids)
