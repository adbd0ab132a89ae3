from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgectl.adapters.store import ChargeType, NotFoundError, Store, open_store
from edgectl.clock import FakeClock
from edgectl.core.phases import Phases

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def test_start_get_and_replay(store: Store, clock: FakeClock) -> None:
    first = await store.sessions.start("S1", 1, "TAG", T0, 1000, charge_type=ChargeType.REMOTE, reservation_id=7)
    assert not first.replayed
    s = first.session
    assert (s.station_id, s.connector_id, s.id_tag, s.start_at, s.meter_start_wh) == ("S1", 1, "TAG", T0, 1000)
    assert s.charge_type is ChargeType.REMOTE and s.reservation_id == 7
    assert s.received_at == clock.now() and s.is_open and s.energy_wh == 0
    replay = await store.sessions.start("S1", 1, "TAG", T0, 1000)
    assert replay.replayed and replay.session == s
    other = await store.sessions.start("S1", 1, "TAG", at(1), 1000)  # another start time: a new session
    assert other.session.transaction_id != s.transaction_id
    assert await store.sessions.get(s.transaction_id) == s
    assert await store.sessions.get(999_999) is None


async def test_transaction_ids_never_reused(db_path: Path, clock: FakeClock) -> None:
    seen: set[int] = set()
    async with open_store(db_path, clock) as store:
        for i in range(5):
            started = await store.sessions.start("S1", 1, "T", at(i), 0)
            seen.add(started.session.transaction_id)
        reserved = await store.sessions.next_transaction_id()
        assert reserved not in seen
        seen.add(reserved)
        highest = max(seen)
        for tid in list(seen):
            await store.sessions.delete(tid)
    async with open_store(db_path, clock) as store:
        new = await store.sessions.start("S1", 1, "T", at(100), 0)
        assert new.session.transaction_id > highest
        assert new.session.transaction_id not in seen
        after = await store.sessions.next_transaction_id()
        assert after > new.session.transaction_id


async def test_start_with_reserved_id(store: Store) -> None:
    reserved = await store.sessions.next_transaction_id()
    started = await store.sessions.start("S1", 2, "T", T0, 0, transaction_id=reserved)
    assert started.session.transaction_id == reserved
    assert (await store.sessions.start("S1", 2, "T", T0, 0)).session.transaction_id == reserved


async def test_meter_values_keep_latest_and_history(store: Store) -> None:
    tid = (await store.sessions.start("S1", 1, "T", T0, 1000)).session.transaction_id
    assert await store.sessions.add_meter_values(
        tid, at(1), energy_wh=1100, station_current_a=Phases(16, 15.5, 16.2), power_w=11000, soc_percent=40
    )
    assert await store.sessions.add_meter_values(tid, at(2), energy_wh=1300, station_current_a=Phases(16, 16, 16))
    assert not await store.sessions.add_meter_values(tid, at(2), energy_wh=1300)  # replayed
    assert await store.sessions.add_meter_values(tid, at(1.5), energy_wh=1200)  # late: history only
    s = await store.sessions.get(tid)
    assert s is not None and s.last_sample is not None
    assert s.last_sample.at == at(2) and s.last_sample.energy_wh == 1300
    assert s.last_sample.station_current_a == Phases(16, 16, 16)
    assert s.energy_wh == 300
    assert [x.at for x in await store.sessions.samples(tid)] == [at(1), at(1.5), at(2)]
    assert (await store.sessions.samples(tid))[0].soc_percent == 40
    with pytest.raises(NotFoundError):
        await store.sessions.add_meter_values(424242, at(1), energy_wh=1)


async def test_effective_charge_duration_counts_only_charging(store: Store) -> None:
    tid = (await store.sessions.start("S1", 1, "T", T0, 1000)).session.transaction_id
    await store.sessions.add_meter_values(tid, at(10), energy_wh=2000)  # charging 0-10
    await store.sessions.add_meter_values(tid, at(20), energy_wh=2000)  # full: 10-20 does not count
    await store.sessions.add_meter_values(tid, at(25), station_current_a=Phases(10, 10, 10))  # no energy, current
    await store.sessions.add_meter_values(tid, at(30), station_current_a=Phases(0.2, 0, 0))  # 25-30 counts (earlier)
    stopped = await store.sessions.stop(tid, at(40), 2000, "EVDisconnected")  # 30-40: no energy rise
    assert stopped.session.effective_charge_duration_s == 15 * 60


async def test_stop_is_idempotent(store: Store) -> None:
    tid = (await store.sessions.start("S1", 1, "T", T0, 1000)).session.transaction_id
    first = await store.sessions.stop(tid, at(30), 4000, "Local", id_tag="T", comment="ok")
    assert not first.replayed
    s = first.session
    assert (s.stop_at, s.meter_stop_wh, s.stop_reason, s.stop_id_tag, s.comment) == (at(30), 4000, "Local", "T", "ok")
    assert s.energy_wh == 3000 and not s.is_open
    assert s.effective_charge_duration_s == 30 * 60
    again = await store.sessions.stop(tid, at(31), 9999, "PowerLoss")  # a station resending at shutdown
    assert again.replayed and again.session == s
    with pytest.raises(NotFoundError):
        await store.sessions.stop(424242, at(1), 0)


async def test_open_sessions(store: Store) -> None:
    a = (await store.sessions.start("S1", 1, "T", T0, 0)).session.transaction_id
    b = (await store.sessions.start("S2", 1, "T", T0, 0)).session.transaction_id
    c = (await store.sessions.start("S2", 2, "T", T0, 0)).session.transaction_id
    await store.sessions.stop(b, at(5), 10)
    assert [s.transaction_id for s in await store.sessions.open_sessions()] == [a, c]
    assert [s.transaction_id for s in await store.sessions.open_sessions("S2")] == [c]


async def test_naive_times_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        await store.sessions.start("S1", 1, "T", datetime(2026, 1, 1), 0)  # noqa: DTZ001


async def test_iter_range_streams_in_order_while_writing(store: Store) -> None:
    ids = []
    for i in range(1200):  # more than one fetch chunk
        ids.append((await store.sessions.start("S1", 1, f"T{i}", at(i), 0)).session.transaction_id)
    got: list[int] = []
    async for session in store.sessions.iter_range(at(100), at(1100)):
        got.append(session.transaction_id)
        if len(got) == 10:
            # a write while the export runs: neither blocks the other
            await asyncio.wait_for(store.sessions.start("S9", 1, "LATE", at(500.5), 0), timeout=5)
    assert got == ids[100:1100]  # one snapshot: the late session is not in it
    everything = [s.transaction_id async for s in store.sessions.iter_range()]
    assert len(everything) == 1201
