"""The sink contract, run against every sink: counts, atomic checkpoints, leases, reopening."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pracsuite_async.sync import (
    RESOURCES,
    Batch,
    Checkpoint,
    JsonlSink,
    LeaseHeldError,
    PostgresSink,
    Row,
    Sink,
    SqliteSink,
)
from tests.sync.conftest import POSTGRES_DSN

APPTS = RESOURCES["appointments"]

SinkFactory = Callable[[], Sink]


def _row(rid: int, status: int = 1) -> Row:
    data = {"appointment_id": rid, "appointment_status_id": status, "client_id": rid * 10}
    return Row(rid, json.dumps(data, sort_keys=True, separators=(",", ":")), {"client_id": rid * 10})


@pytest.fixture(params=["sqlite", "jsonl", "postgres"])
def make_sink(request: pytest.FixtureRequest, tmp_path: Path) -> SinkFactory:
    """A factory of sinks sharing one store (so two of them compete for leases)."""
    if request.param == "sqlite":
        return lambda: SqliteSink(tmp_path / "m.sqlite")
    if request.param == "jsonl":
        return lambda: JsonlSink(tmp_path / "jsonl")
    schema = request.getfixturevalue("postgres_schema")
    assert POSTGRES_DSN is not None
    return lambda: PostgresSink(POSTGRES_DSN, schema=schema)


async def test_commit_counts_inserts_updates_unchanged_and_deletes(make_sink: SinkFactory) -> None:
    """Each commit reports what it changed; equal rows are left alone and unknown deletes count nothing."""
    sink = make_sink()
    await sink.open()
    try:
        async with sink.lease("default", APPTS):
            first = await sink.commit("default", APPTS, Batch(upserts=[_row(1), _row(2)]))
            again = await sink.commit("default", APPTS, Batch(upserts=[_row(1), _row(2, status=3)]))
            gone = await sink.commit("default", APPTS, Batch(deletes=[1, 99]))
            ids = await sink.ids("default", APPTS)
            other = await sink.ids("other-clinic", APPTS)
    finally:
        await sink.aclose()
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 1)
    assert gone.deleted == 1
    assert ids == {2}
    assert other == set()


async def test_checkpoint_is_stored_with_the_rows_and_survives_reopening(make_sink: SinkFactory) -> None:
    """A checkpoint committed with rows is read back by a new sink instance, per account."""
    stamp = datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    checkpoint = Checkpoint(since=stamp, deletions_since=stamp, reconciled=stamp)
    sink = make_sink()
    await sink.open()
    try:
        async with sink.lease("default", APPTS):
            assert await sink.checkpoint("default", APPTS) == Checkpoint()
            await sink.commit("default", APPTS, Batch(upserts=[_row(7)], checkpoint=checkpoint))
    finally:
        await sink.aclose()
    reopened = make_sink()
    await reopened.open()
    try:
        async with reopened.lease("default", APPTS):
            assert await reopened.checkpoint("default", APPTS) == checkpoint
            assert await reopened.checkpoint("other", APPTS) == Checkpoint()
            assert await reopened.ids("default", APPTS) == {7}
    finally:
        await reopened.aclose()


async def test_a_lease_excludes_a_second_worker_until_released(make_sink: SinkFactory) -> None:
    """While one sink holds (account, resource), another sink instance cannot; other pairs stay free."""
    one, two = make_sink(), make_sink()
    await one.open()
    await two.open()
    try:
        async with one.lease("default", APPTS):
            with pytest.raises(LeaseHeldError):
                async with two.lease("default", APPTS):
                    pytest.fail("both workers hold the lease")
            async with two.lease("default", RESOURCES["patients"]):
                pass
            async with two.lease("other-clinic", APPTS):
                pass
        async with two.lease("default", APPTS):
            pass
    finally:
        await one.aclose()
        await two.aclose()


async def test_jsonl_discards_a_torn_journal_line(tmp_path: Path) -> None:
    """A commit line cut short by a crash is dropped on replay; earlier commits and their checkpoint stay."""
    stamp = datetime(2026, 5, 1, tzinfo=UTC)
    sink = JsonlSink(tmp_path)
    await sink.open()
    await sink.commit("default", APPTS, Batch(upserts=[_row(1)], checkpoint=Checkpoint(since=stamp)))
    journal = next((tmp_path / ".sync").glob("*.journal"))
    with journal.open("a", encoding="utf-8") as stream:
        stream.write('{"upserts":[{"appointment_id":2')  # the process died here
    sink._states.clear()  # forget the in-memory state, as a new process would
    reopened = JsonlSink(tmp_path)
    await reopened.open()
    async with reopened.lease("default", APPTS):
        assert await reopened.ids("default", APPTS) == {1}
        assert (await reopened.checkpoint("default", APPTS)).since == stamp
        await reopened.commit("default", APPTS, Batch(upserts=[_row(3)]))
    await reopened.aclose()
    lines = (tmp_path / "appointments.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["appointment_id"] for line in lines] == [1, 3]
    assert not journal.exists()
