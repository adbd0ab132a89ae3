"""Station events, the event log, users and detected stations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgectl.adapters.store import (
    AlreadyExistsError,
    Event,
    EventQuery,
    EventType,
    NotFoundError,
    Role,
    StationEvent,
    StationEventQuery,
    Store,
    User,
    open_store,
)
from edgectl.clock import FakeClock

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


async def test_station_events_record_and_query(store: Store, clock: FakeClock) -> None:
    first = await store.station_events.record(StationEvent("S1", 0, "Available"))
    clock.advance(60)
    await store.station_events.record(
        StationEvent("S1", 1, "Faulted", "GroundFailure", "RCD", "Schneider", "E42", station_at=T0)
    )
    clock.advance(60)
    last = await store.station_events.record(StationEvent("S2", 1, "Charging"))
    rows = await store.station_events.query()
    assert rows[0].id == last and rows[-1].id == first
    assert rows[-1].received_at == clock.now() - timedelta(seconds=120)
    faulted = await store.station_events.query(StationEventQuery(errors_only=True))
    assert len(faulted) == 1
    f = faulted[0]
    assert (f.error_code, f.info, f.vendor_id, f.vendor_error_code, f.station_at) == (
        "GroundFailure",
        "RCD",
        "Schneider",
        "E42",
        T0,
    )
    assert len(await store.station_events.query(StationEventQuery(station_id="S1"))) == 2
    assert len(await store.station_events.query(StationEventQuery(station_id="S1", connector_id=0))) == 1
    assert len(await store.station_events.query(StationEventQuery(status="Charging"))) == 1
    page1 = await store.station_events.query(StationEventQuery(limit=2))
    page2 = await store.station_events.query(StationEventQuery(limit=2, before_id=page1[-1].id))
    assert [r.id for r in page1 + page2] == [r.id for r in rows]
    window = await store.station_events.query(
        StationEventQuery(received_from=clock.now() - timedelta(seconds=90), received_to=clock.now())
    )
    assert [r.status for r in window] == ["Faulted"]
    latest = await store.station_events.latest_status("S1")
    assert {k: v.status for k, v in latest.items()} == {0: "Available", 1: "Faulted"}


async def test_event_log_query(store: Store, clock: FakeClock) -> None:
    await store.events.append(Event(EventType.SYSTEM, "Daemon started", source="box"))
    clock.advance(1)
    await store.events.append(
        Event(EventType.TRANSACTION, "Session started", source="S1", zone="floor1", details={"transaction_id": 5})
    )
    clock.advance(1)
    await store.events.append(Event(EventType.SECURITY, "Login failed", source="web", details={"user": "bob"}))
    everything = await store.events.query()
    assert [e.message for e in everything] == ["Login failed", "Session started", "Daemon started"]
    tx = everything[1]
    assert tx.type is EventType.TRANSACTION and tx.details == {"transaction_id": 5} and tx.zone == "floor1"
    assert tx.at == clock.now() - timedelta(seconds=1)
    q = EventQuery(types=(EventType.SYSTEM, EventType.SECURITY))
    assert [e.message for e in await store.events.query(q)] == ["Login failed", "Daemon started"]
    assert [e.message for e in await store.events.query(EventQuery(source="S1"))] == ["Session started"]
    assert [e.message for e in await store.events.query(EventQuery(zone="floor1"))] == ["Session started"]
    assert [e.message for e in await store.events.query(EventQuery(text="LOGIN"))] == ["Login failed"]
    assert len(await store.events.query(EventQuery(at_from=clock.now() - timedelta(seconds=1)))) == 2
    assert len(await store.events.query(EventQuery(limit=1, before_id=everything[0].id))) == 1


async def test_event_log_is_bounded(db_path: Path, clock: FakeClock) -> None:
    async with open_store(db_path, clock, max_events=50) as store:
        for i in range(200):
            await store.events.append(Event(EventType.METER_VALUE, f"m{i}"))
            assert await store.events.count() <= 50 + 5  # trimmed in batches of a tenth
        newest = await store.events.query(EventQuery(limit=50))
        assert [e.message for e in newest] == [f"m{i}" for i in range(199, 149, -1)]
    async with open_store(db_path, clock, max_events=50) as store:  # the count survives a restart
        for i in range(200, 260):
            await store.events.append(Event(EventType.METER_VALUE, f"m{i}"))
        assert 50 <= await store.events.count() <= 55


async def test_users_crud(store: Store, clock: FakeClock) -> None:
    created = await store.users.create(User("alice", "$argon2$x", Role.ADMIN))
    assert created.created_at == clock.now() and created.failed_logins == 0
    with pytest.raises(AlreadyExistsError):
        await store.users.create(User("ALICE", "h", Role.USER))
    clock.advance(1)
    await store.users.create(User("bob", "h2", Role.USER, zone_scope="floor1"))
    await store.users.create(User("ems", "h3", Role.WEBSERVICES))
    assert [u.username for u in await store.users.list()] == ["alice", "bob", "ems"]
    assert [u.username for u in await store.users.list(Role.USER)] == ["bob"]
    assert await store.users.get("Alice") == created
    lock = clock.now() + timedelta(seconds=60)
    await store.users.set_login_state("bob", 6, lock)
    bob = await store.users.get("bob")
    assert bob is not None and bob.failed_logins == 6 and bob.locked_until == lock and bob.zone_scope == "floor1"
    await store.users.update(User("bob", "new-hash", Role.ADMIN, None, 0, None))
    bob = await store.users.get("bob")
    assert bob is not None
    assert (bob.password_hash, bob.role, bob.zone_scope, bob.failed_logins, bob.locked_until) == (
        "new-hash",
        Role.ADMIN,
        None,
        0,
        None,
    )
    with pytest.raises(NotFoundError):
        await store.users.update(User("nobody", "h", Role.USER))
    with pytest.raises(NotFoundError):
        await store.users.set_login_state("nobody", 1, None)
    assert await store.users.delete("BOB") is True
    assert await store.users.get("bob") is None


async def test_stations_registry(store: Store) -> None:
    first = await store.stations_registry.seen("CB-1", T0, "192.168.0.50:41000")
    assert first.first_seen == first.last_seen == T0
    again = await store.stations_registry.seen("CB-1", T0 + timedelta(hours=1))
    assert again.first_seen == T0 and again.last_seen == T0 + timedelta(hours=1)
    assert again.remote_address == "192.168.0.50:41000"  # kept when not given
    booted = await store.stations_registry.record_boot(
        "CB-1", T0 + timedelta(hours=2), vendor="Schneider Electric", model="EVlink", serial="X1", firmware="3.4"
    )
    assert (booted.vendor, booted.model, booted.serial, booted.firmware) == (
        "Schneider Electric",
        "EVlink",
        "X1",
        "3.4",
    )
    assert booted.last_seen == T0 + timedelta(hours=2)
    with pytest.raises(NotFoundError):
        await store.stations_registry.record_boot("nope", T0, vendor=None, model=None, serial=None, firmware=None)
    await store.stations_registry.seen("CB-0", T0 + timedelta(hours=3))
    assert [s.identity for s in await store.stations_registry.list()] == ["CB-1", "CB-0"]
    assert await store.stations_registry.get("CB-1") == booted
    assert await store.stations_registry.delete("CB-1") is True
    assert await store.stations_registry.get("CB-1") is None


async def test_backup_is_a_complete_copy(store: Store, tmp_path: Path, clock: FakeClock) -> None:
    await store.sessions.start("S1", 1, "T", T0, 0)
    target = tmp_path / "backup.db"
    await store.backup_to(target)
    async with open_store(target, clock) as copy:
        assert len(await copy.sessions.open_sessions()) == 1
        assert await copy.integrity_check() == "ok"
