"""Alarms: each kind raised and cleared (pure rules, then through the monitor
into a real store), idempotent, operator clear recorded with who."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edgectl.adapters.store import AlarmQuery, EventQuery, Store, open_store
from edgectl.clock import FakeClock
from edgectl.core.phases import Phases
from edgectl.core.result import Allocation, ConnectorResult, ConnectorState
from edgectl.core.snapshot import ConnectorObservation, MeterReading, Snapshot, StationObservation
from edgectl.services import AlarmKind, AlarmMonitor, AlarmRules
from edgectl.services.alarm_rules import Clear, Raise

from .conftest import one_station_site

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def cycle_inputs(
    setpoint: int, measured: tuple[float, float, float] | None, state: ConnectorState = ConnectorState.CHARGING
) -> tuple[Allocation, Snapshot]:
    result = ConnectorResult("S1", 1, setpoint, state, (), 6, Phases(setpoint, setpoint, setpoint))
    obs = ConnectorObservation(status="Charging", current_a=None if measured is None else Phases(*measured))
    return (
        Allocation(T0, (result,), ()),
        Snapshot(T0, stations={"S1": StationObservation(True, {1: obs})}),
    )


# --- the pure rules --------------------------------------------------------------------


def kinds(transitions: list[Raise | Clear]) -> list[tuple[str, str]]:
    return [(type(t).__name__, t.key.kind.value) for t in transitions]


def test_offline_after_grace_and_cleared_on_reconnect() -> None:
    rules = AlarmRules(offline_grace_s=60)
    assert rules.tick(0, ["S1"]) == []  # never connected: the grace starts now
    assert kinds(rules.tick(59, ["S1"])) == []
    assert kinds(rules.tick(60, ["S1"])) == [("Raise", "station_offline")]
    assert rules.tick(120, ["S1"]) == []  # reported once per episode
    assert kinds(rules.station_connected("S1")) == [("Clear", "station_offline")]
    rules.station_disconnected("S1", 200)
    assert rules.tick(230, ["S1"]) == []
    assert kinds(rules.tick(260, ["S1"])) == [("Raise", "station_offline")]
    assert kinds(rules.tick(261, [])) == [("Clear", "station_offline")]  # removed from the site


def test_meter_unreachable_after_grace_cleared_by_a_reading() -> None:
    rules = AlarmRules(meter_grace_s=10)
    assert rules.meter_failed("m1", "timeout", 0) == []
    assert rules.meter_failed("m1", "timeout", 5) == []
    raised = rules.meter_failed("m1", "timeout", 10)
    assert kinds(raised) == [("Raise", "meter_unreachable")] and "timeout" in raised[0].message  # type: ignore[union-attr]
    assert rules.tick(30, []) == []
    assert kinds(rules.meter_ok("m1")) == [("Clear", "meter_unreachable")]
    assert rules.meter_failed("m1", "timeout", 40) == []  # a new episode, a new grace


def test_connector_faulted_with_its_code() -> None:
    rules = AlarmRules()
    raised = rules.connector_status("S1", 2, "Faulted", "GroundFailure")
    assert isinstance(raised[0], Raise) and raised[0].code == "GroundFailure" and raised[0].key.connector == 2
    assert kinds(rules.connector_status("S1", 2, "Available", "NoError")) == [("Clear", "connector_faulted")]


def test_setpoint_not_respected_after_the_reaction_window() -> None:
    rules = AlarmRules(tolerance_a=2, reaction_window_s=30)
    assert kinds(rules.cycle(0, *cycle_inputs(10, (12.0, 11.0, 11.0)))) == [("Clear", "setpoint_not_respected")]
    assert rules.cycle(1, *cycle_inputs(10, (12.5, 11.0, 11.0))) == []  # over on L1: the window starts
    assert rules.cycle(30, *cycle_inputs(10, (12.5, 11.0, 11.0))) == []
    raised = rules.cycle(31, *cycle_inputs(10, (12.5, 11.0, 11.0)))
    assert kinds(raised) == [("Raise", "setpoint_not_respected")]
    assert raised[0].details["measured_a"] == [12.5, 11.0, 11.0]  # type: ignore[union-attr]
    assert rules.cycle(40, *cycle_inputs(10, (16.0, 16.0, 16.0))) == []  # raised once
    assert rules.cycle(41, *cycle_inputs(10, None)) == []  # no reading: no judgement
    assert kinds(rules.cycle(42, *cycle_inputs(10, (10.0, 10.0, 10.0)))) == [("Clear", "setpoint_not_respected")]


def test_setpoint_lowered_gives_the_ev_its_window() -> None:
    rules = AlarmRules(tolerance_a=2, reaction_window_s=30)
    for t in range(0, 25, 5):  # setpoint drops to 6 A; the car follows within 25 s
        assert not any(isinstance(x, Raise) for x in rules.cycle(t, *cycle_inputs(6, (16.0, 16.0, 16.0))))
    assert kinds(rules.cycle(26, *cycle_inputs(6, (6.5, 6.4, 6.2)))) == [("Clear", "setpoint_not_respected")]
    assert kinds(rules.cycle(27, *cycle_inputs(0, (9.0, 0, 0), ConnectorState.IDLE))) == [
        ("Clear", "setpoint_not_respected")
    ]


def test_profile_rejected_cleared_on_reconnect() -> None:
    rules = AlarmRules()
    assert kinds(rules.profile_rejected("S1", 1, "Rejected")) == [("Raise", "profile_rejected")]
    assert kinds(rules.station_connected("S1")) == [("Clear", "station_offline"), ("Clear", "profile_rejected")]


# --- the monitor, with a real store ---------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(tmp_path / "edgectl.db", FakeClock(T0)) as s:
        yield s


async def monitor(store: Store, clock: FakeClock) -> AlarmMonitor:
    m = AlarmMonitor(store, clock, one_station_site, AlarmRules(offline_grace_s=60, meter_grace_s=10))
    await m.load()
    return m


async def test_every_kind_raised_and_cleared_through_the_store(store: Store) -> None:
    clock = FakeClock(T0)
    m = await monitor(store, clock)
    await m.process()  # S1 never connected: its grace starts
    m.station_connected("S1")
    m.connector_status("S1", 1, "Faulted", "HighTemperature")
    m.connector_status("S1", 1, "Faulted", "HighTemperature")  # idempotent
    m.meter_failed("pm-main", "no response")
    clock.advance(11)
    m.meter_failed("pm-main", "no response")
    m.profile_rejected("S1", 2, "Rejected")
    m.cycle(*cycle_inputs(10, (20.0, 20.0, 20.0)))
    clock.advance(31)
    m.cycle(*cycle_inputs(10, (20.0, 20.0, 20.0)))
    await m.process()
    active = {(a.kind, a.connector_id): a for a in await m.active()}
    assert set(active) == {
        ("connector_faulted", 1), ("meter_unreachable", 0), ("profile_rejected", 2), ("setpoint_not_respected", 1),
    }
    assert active[("connector_faulted", 1)].code == "HighTemperature"
    m.station_disconnected("S1")
    clock.advance(61)
    await m.process()
    assert "station_offline" in {a.kind for a in await m.active()}

    m.station_connected("S1")  # clears offline and the rejected profile
    m.connector_status("S1", 1, "Available")
    m.meter_reading("pm-main", MeterReading(Phases(1, 1, 1)))
    m.cycle(*cycle_inputs(10, (9.0, 9.0, 9.0)))
    await m.process()
    assert await m.active() == []
    history = await m.history(AlarmQuery(active=False))
    assert len(history) == 5 and all(a.cleared_by == "system" for a in history)
    raised = await store.events.query(EventQuery(source="S1", text="alarm raised"))
    assert len(raised) == 4  # faulted, rejected, setpoint, offline: each once


async def test_operator_clear_is_recorded_and_not_raised_again_while_it_lasts(store: Store) -> None:
    clock = FakeClock(T0)
    m = await monitor(store, clock)
    m.station_connected("S1")
    m.cycle(*cycle_inputs(10, (20.0, 20.0, 20.0)))
    clock.advance(31)
    m.cycle(*cycle_inputs(10, (20.0, 20.0, 20.0)))
    await m.process()
    (alarm,) = await m.active()
    assert alarm.id is not None
    cleared = await m.clear(alarm.id, "erin")
    assert cleared is not None and cleared.cleared_by == "erin"
    assert await m.clear(alarm.id, "erin") is None  # already cleared
    clock.advance(60)
    m.cycle(*cycle_inputs(10, (20.0, 20.0, 20.0)))
    await m.process()
    assert await m.active() == []  # acknowledged: not raised again until it went away once
    events = await store.events.query(EventQuery(source="S1", text="cleared by erin"))
    assert events and events[0].details["by"] == "erin"


async def test_an_alarm_from_before_a_restart_clears(store: Store, tmp_path: Path) -> None:
    clock = FakeClock(T0)
    first = await monitor(store, clock)
    first.connector_status("S1", 0, "Faulted", "OtherError")
    await first.process()
    assert len(await first.active()) == 1
    second = await monitor(store, clock)  # a new daemon on the same store
    second.connector_status("S1", 0, "Available")
    await second.process()
    assert await second.active() == []


async def test_a_good_reading_every_poll_costs_nothing(store: Store) -> None:
    clock = FakeClock(T0)
    m = await monitor(store, clock)
    for _ in range(100):
        m.meter_reading("pm-main", MeterReading(Phases(1, 1, 1)))
        m.connector_status("S1", 1, "Charging")
    assert not m._queue  # nothing to write
    assert AlarmKind("meter_unreachable") is AlarmKind.METER_UNREACHABLE
