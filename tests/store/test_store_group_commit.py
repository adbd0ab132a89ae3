"""Group commit (edgectl/adapters/store/db.py): writers share COMMITs, nothing
is acknowledged before it is on disk, and one writer's failure is its own."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgectl.adapters.store import MeterSample, Store
from edgectl.adapters.store.errors import NotFoundError

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)


def on_disk(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """What another process would read now (its own connection, WAL included)."""
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchall()


async def started(store: Store, n: int) -> list[int]:
    out = []
    for i in range(n):
        s = await store.sessions.start(f"S{i}", 1, f"TAG{i}", T0, 0)
        out.append(s.session.transaction_id)
    return out


async def test_concurrent_writers_share_commits_and_each_is_on_disk_when_it_returns(
    store: Store, db_path: Path
) -> None:
    tids = await started(store, 40)
    db = store._db
    commits0, writers0 = db.commits, db.batched_writes

    async def one(i: int, tid: int) -> None:
        recorded = await store.sessions.record_meter_values(
            f"S{i}", tid, [MeterSample(T0 + timedelta(seconds=10), 1000.0 + i)]
        )
        assert recorded.stored == 1
        # Returned = committed: another connection sees it at once.
        assert on_disk(db_path, "SELECT energy_wh FROM session_samples WHERE transaction_id = ?", (tid,)) == [
            (1000.0 + i,)
        ]

    async with asyncio.timeout(30):
        await asyncio.gather(*(one(i, tid) for i, tid in enumerate(tids)))
    commits = db.commits - commits0
    assert db.batched_writes - writers0 == 40
    assert 1 <= commits < 40, f"{commits} commits for 40 concurrent writers: no sharing"


async def test_a_lone_writer_commits_at_once(store: Store, db_path: Path) -> None:
    (tid,) = await started(store, 1)
    async with asyncio.timeout(5):  # nobody else will come: it must not wait for company
        assert await store.sessions.add_meter_values(tid, T0 + timedelta(seconds=5), energy_wh=50.0)
    assert on_disk(db_path, "SELECT COUNT(*) FROM session_samples") == [(1,)]


async def test_a_failing_writer_undoes_only_its_own_work(store: Store, db_path: Path) -> None:
    tids = await started(store, 10)

    async def good(i: int, tid: int) -> bool:
        return await store.sessions.add_meter_values(tid, T0 + timedelta(seconds=30), energy_wh=float(i))

    async def bad() -> bool:
        return await store.sessions.add_meter_values(999_999, T0, energy_wh=1.0)

    async def bad_block() -> None:
        async with store._db.write() as conn:
            await conn.execute(
                "INSERT INTO events (at_us, type, message) VALUES (1, 'transaction', 'must vanish')"
            )
            raise RuntimeError("the writer changed its mind")

    results = await asyncio.gather(
        *(good(i, t) for i, t in enumerate(tids[:5])),
        bad(),
        bad_block(),
        *(good(i, t) for i, t in enumerate(tids[5:], start=5)),
        return_exceptions=True,
    )
    assert results[:5] == [True] * 5 and results[7:] == [True] * 5
    assert isinstance(results[5], NotFoundError)
    assert isinstance(results[6], RuntimeError)
    assert on_disk(db_path, "SELECT COUNT(*) FROM session_samples") == [(10,)]
    assert on_disk(db_path, "SELECT COUNT(*) FROM events WHERE message = 'must vanish'") == [(0,)]


async def test_a_failed_commit_fails_every_writer_of_its_batch_and_nothing_is_stored(
    store: Store, db_path: Path
) -> None:
    """A deferred foreign key only fails at COMMIT: the whole batch is refused, not acknowledged."""
    tids = await started(store, 6)

    async def dangling_zone() -> None:
        async with store._db.write() as conn:
            await conn.execute(
                "INSERT INTO zones (id, position, name, max_current_a, mode, parent, degraded_current_a,"
                " tou_enabled) VALUES ('z-orphan', 99, 'orphan', 10, 'static', 'no-such-zone', 0, 0)"
            )

    async def sample(tid: int) -> bool:
        return await store.sessions.add_meter_values(tid, T0 + timedelta(seconds=40), energy_wh=7.0)

    # Started in one go: they join the same batch as the dangling write.
    results = await asyncio.gather(dangling_zone(), *(sample(t) for t in tids), return_exceptions=True)
    assert all(isinstance(r, sqlite3.IntegrityError) for r in results), results
    assert on_disk(db_path, "SELECT COUNT(*) FROM session_samples") == [(0,)]
    assert on_disk(db_path, "SELECT COUNT(*) FROM zones WHERE id = 'z-orphan'") == [(0,)]
    # The store goes on: the next batch commits normally.
    assert await sample(tids[0]) is True
    assert on_disk(db_path, "SELECT COUNT(*) FROM session_samples") == [(1,)]


async def test_alone_writes_commit_by_themselves(store: Store, db_path: Path) -> None:
    """A write that relies on deferred keys runs alone: its failure is its own."""
    tids = await started(store, 4)

    async def dangling_alone() -> None:
        async with store._db.write(alone=True) as conn:
            await conn.execute(
                "INSERT INTO zones (id, position, name, max_current_a, mode, parent, degraded_current_a,"
                " tou_enabled) VALUES ('z-orphan', 99, 'orphan', 10, 'static', 'no-such-zone', 0, 0)"
            )

    async def sample(tid: int) -> bool:
        return await store.sessions.add_meter_values(tid, T0 + timedelta(seconds=50), energy_wh=9.0)

    results = await asyncio.gather(
        sample(tids[0]), dangling_alone(), *(sample(t) for t in tids[1:]), return_exceptions=True
    )
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert [r for i, r in enumerate(results) if i != 1] == [True] * 4
    assert on_disk(db_path, "SELECT COUNT(*) FROM session_samples") == [(4,)]


async def test_reads_inside_an_open_batch_and_a_flush_on_close(store: Store, db_path: Path) -> None:
    (tid,) = await started(store, 1)
    write = asyncio.ensure_future(store.sessions.add_meter_values(tid, T0 + timedelta(seconds=1), energy_wh=3.0))
    got = await store.sessions.get(tid)  # runs whatever the batch state: no "transaction within a transaction"
    assert got is not None
    assert await write is True
    await store._db.flush()
    assert on_disk(db_path, "SELECT COUNT(*) FROM session_samples") == [(1,)]


@pytest.mark.parametrize("n", [1, 3])
async def test_record_meter_values_skips_replays_and_refuses_other_stations(store: Store, n: int) -> None:
    (tid,) = await started(store, 1)
    samples = [MeterSample(T0 + timedelta(seconds=k + 1), float(100 * (k + 1))) for k in range(n)]
    first = await store.sessions.record_meter_values("S0", tid, samples)
    assert first.stored == n and first.session is not None and first.session.last_sample is None
    again = await store.sessions.record_meter_values("S0", tid, samples)
    assert again.stored == 0 and again.session is not None
    assert again.session.last_sample is not None and again.session.last_sample.energy_wh == 100.0 * n
    foreign = await store.sessions.record_meter_values("S9", tid, samples)
    assert foreign.session is None and foreign.owner == "S0"
    unknown = await store.sessions.record_meter_values("S0", 424242, samples)
    assert unknown.session is None and unknown.owner is None
