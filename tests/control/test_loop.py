"""The control loop with the real engine and planner, stations faked at the port."""

from __future__ import annotations

import asyncio
import contextlib

from edgectl.control.loop import ControlLoop
from edgectl.control.observations import SiteObservations
from edgectl.core.phases import Phases
from edgectl.core.snapshot import MeterReading
from edgectl.core.topology import compile_site
from edgectl.stationmodels import catalogue

from .conftest import T0, dynamic_site, two_zone_site


def make_loop(site, clock, stations):
    obs = SiteObservations(clock.now)
    topo = compile_site(site, catalogue())
    loop = ControlLoop(lambda: topo, obs, stations, clock, lease_s=120, call_timeout_s=1.0)
    return loop, obs


def connect(obs, stations, sid):
    stations.online.add(sid)
    obs.station_connected(sid)


async def test_connect_writes_fallback_then_live_once(clock, stations):
    loop, obs = make_loop(two_zone_site(), clock, stations)
    connect(obs, stations, "A1")
    obs.connector_status("A1", 1, "Charging")
    obs.transaction_started("A1", 1, 11, "TAG", T0, 0)
    await loop.cycle()
    actions = [(s, a, p["csChargingProfiles"]["chargingProfilePurpose"]) for s, a, p in stations.calls]
    assert ("A1", "SetChargingProfile", "TxDefaultProfile") in actions
    assert ("A1", "SetChargingProfile", "TxProfile") in actions
    n = len(stations.calls)
    clock.advance(5)
    await loop.cycle()
    assert len(stations.calls) == n, "nothing changed: nothing re-sent"
    # Reconnection voids what the station acknowledged: fallback again.
    obs.station_disconnected("A1")
    connect(obs, stations, "A1")
    await loop.cycle()
    purposes = [p["csChargingProfiles"]["chargingProfilePurpose"] for _s, _a, p in stations.calls[n:]]
    assert "TxDefaultProfile" in purposes


async def test_failed_decrease_holds_increase_in_same_zone(clock, stations):
    loop, obs = make_loop(two_zone_site(), clock, stations)
    for sid in ("A1", "A2"):
        connect(obs, stations, sid)
    obs.connector_status("A1", 1, "Charging")
    obs.transaction_started("A1", 1, 1, "TAG", T0, 0)
    await loop.cycle()  # A1 alone: 32 A
    assert loop.last is not None and loop.last.allocation.setpoints()[("A1", 1)] == 32
    stations.answer["A1"] = "timeout"
    obs.connector_status("A2", 1, "Charging")
    obs.transaction_started("A2", 1, 2, "TAG2", T0, 0)
    before = len(stations.calls)
    result = await loop.cycle()
    assert result.report.held >= 1
    a2_live = [
        p for s, a, p in stations.calls[before:]
        if s == "A2" and p.get("csChargingProfiles", {}).get("chargingProfilePurpose") == "TxProfile"
    ]
    assert a2_live == [], "A2 must not rise while A1's decrease did not get through"
    # A1 is in back-off: the next cycle does not hammer it.
    calls_to_a1 = sum(1 for s, *_ in stations.calls if s == "A1")
    await loop.cycle()
    assert sum(1 for s, *_ in stations.calls if s == "A1") == calls_to_a1
    # Back-off over and A1 answering again: decrease then increase.
    stations.answer.pop("A1")
    clock.advance(5)
    await loop.cycle()
    assert loop.applier.applied()[("A2", 1)].live_a == loop.last.allocation.setpoints()[("A2", 1)]


async def test_one_call_in_flight_per_station(clock, stations):
    loop, obs = make_loop(two_zone_site(), clock, stations)
    connect(obs, stations, "A1")
    obs.connector_status("A1", 1, "Charging")
    obs.transaction_started("A1", 1, 1, "TAG", T0, 0)
    await loop.cycle()
    assert stations.max_in_flight == 1


async def test_meter_loss_degrades_and_recovers(clock, stations):
    loop, obs = make_loop(dynamic_site(), clock, stations)
    connect(obs, stations, "S1")
    obs.connector_status("S1", 1, "Charging")
    obs.transaction_started("S1", 1, 1, "TAG", T0, 0)
    obs.meter_reading("m", MeterReading(Phases(20, 20, 20), clock.now()))
    await loop.cycle()
    assert loop.last.allocation.setpoints()[("S1", 1)] == 20
    obs.meter_failed("m", "timeout")
    await loop.cycle()
    assert loop.last.allocation.setpoints()[("S1", 1)] == 12  # degraded_current
    assert loop.last.allocation.zones[0].degraded
    # A stale sample counts as lost too.
    obs.meter_reading("m", MeterReading(Phases(10, 10, 10), clock.now()))
    clock.advance(30)
    await loop.cycle()
    assert loop.last.allocation.zones[0].degraded
    obs.meter_reading("m", MeterReading(Phases(10, 10, 10), clock.now()))
    await loop.cycle()
    assert loop.last.allocation.setpoints()[("S1", 1)] == 30


async def test_offline_station_reserved_and_session_kept(clock, stations):
    loop, obs = make_loop(two_zone_site(), clock, stations)
    connect(obs, stations, "A1")
    obs.connector_status("A1", 1, "Charging")
    obs.transaction_started("A1", 1, 5, "TAG", T0, 0)
    await loop.cycle()
    obs.station_disconnected("A1")
    stations.online.discard("A1")
    await loop.cycle()
    a1 = next(c for c in loop.last.allocation.connectors if c.station == "A1")
    assert a1.state.value == "offline" and a1.setpoint_a == a1.fallback_a
    assert obs.transactions()[("A1", 1)] == 5


async def test_effective_charge_duration_counts_only_drawing_time(clock, stations):
    _loop, obs = make_loop(two_zone_site(), clock, stations)
    connect(obs, stations, "A1")
    obs.transaction_started("A1", 1, 5, "TAG", T0, 0)
    obs.connector_status("A1", 1, "Charging")
    obs.meter_values("A1", 1, 5, 0, Phases(10, 10, 10))
    clock.advance(60)
    obs.connector_status("A1", 1, "SuspendedEV")
    clock.advance(100)
    obs.connector_status("A1", 1, "Charging")
    clock.advance(40)
    snap = obs.snapshot(clock.now())
    assert snap.stations["A1"].connectors[1].charging_at(snap.time) == 100


class GatedStations:
    """FakeStations whose answers wait for a gate: calls are recorded when sent."""

    def __init__(self, inner) -> None:
        import asyncio

        self.inner = inner
        self.gate = asyncio.Event()
        self.gate.set()
        self.sent: list[tuple[str, str, dict]] = []

    def connected(self):
        return self.inner.connected()

    async def call(self, station_id, action, payload, timeout_s=None):
        self.sent.append((station_id, action, payload))
        await self.gate.wait()
        return await self.inner.call(station_id, action, payload, timeout_s)

    def start_call(self, station_id, action, payload, timeout_s):
        import asyncio

        from edgectl.ports import payload_dict

        return asyncio.ensure_future(self.call(station_id, action, payload_dict(payload), timeout_s))


def live_limits(sent, sid):
    return [
        p["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
        for s, a, p in sent
        if s == sid and a == "SetChargingProfile" and p["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile"
    ]


async def test_a_newer_plan_supersedes_increases_still_waiting_in_an_older_apply(clock, stations):
    """Overlapping cycles: an old increase must never land after the newer plan; nothing in flight is sent twice."""
    import asyncio

    gated = GatedStations(stations)
    obs = SiteObservations(clock.now)
    topo = compile_site(two_zone_site(), catalogue())
    loop = ControlLoop(lambda: topo, obs, gated, clock, lease_s=120, call_timeout_s=1.0)
    for sid in ("A1", "A2"):
        connect(obs, stations, sid)
    obs.connector_status("A1", 1, "Charging")
    obs.transaction_started("A1", 1, 1, "T1", T0, 0)
    await loop.cycle()
    assert loop.applier.applied()[("A1", 1)].live_a == 32
    # A second car: A1 must come down (decrease, its answer held back), A2 may rise after it.
    gated.gate.clear()
    obs.connector_status("A2", 1, "Charging")
    obs.transaction_started("A2", 1, 2, "T2", T0, 0)
    first = asyncio.ensure_future(loop.cycle())
    await asyncio.sleep(0.01)
    assert live_limits(gated.sent, "A1") == [32, 16]
    assert live_limits(gated.sent, "A2") == [], "A2's increase waits for A1's decrease"
    # Meanwhile the second car leaves: the newer plan gives A1 its 32 A back and A2 nothing.
    obs.transaction_stopped("A2", 1, 2)
    obs.connector_status("A2", 1, "Available")
    second = asyncio.ensure_future(loop.cycle())
    await asyncio.sleep(0.01)
    gated.gate.set()
    r1, r2 = await first, await second
    assert live_limits(gated.sent, "A2") == [], "the superseded increase was never sent"
    assert r1.report.superseded >= 1
    assert live_limits(gated.sent, "A1") == [32, 16, 32]
    assert loop.applier.applied()[("A1", 1)].live_a == 32
    assert loop.last is r2, "the newest cycle is the one published"
    # Nothing in flight was planned twice, and the next cycle has nothing to send.
    n = len(gated.sent)
    await loop.cycle()
    assert len(gated.sent) == n


async def test_the_loop_plans_again_while_stations_are_still_answering(clock, stations):
    """run(): once a cycle's decreases are answered and its increases handed out, a wake-up plans the
    next cycle without waiting for those increases' answers."""
    import asyncio
    import contextlib

    gated = GatedStations(stations)
    obs = SiteObservations(clock.now)
    topo = compile_site(two_zone_site(), catalogue())
    loop = ControlLoop(lambda: topo, obs, gated, clock, cycle_s=60.0, lease_s=120, call_timeout_s=1.0)
    connect(obs, stations, "A1")
    await loop.cycle()  # A1's fallback, answered
    gated.gate.clear()  # from now on nobody answers
    obs.connector_status("A1", 1, "Charging")
    obs.transaction_started("A1", 1, 1, "T1", T0, 0)  # an increase for A1: handed out, never answered
    task = asyncio.ensure_future(loop.run())
    try:
        for _ in range(100):
            await asyncio.sleep(0.005)
            if live_limits(gated.sent, "A1"):
                break
        assert len(live_limits(gated.sent, "A1")) == 1  # (A2 is offline: reserved, so A1 gets what is left)
        connect(obs, stations, "B1")  # wakes the loop
        for _ in range(100):
            await asyncio.sleep(0.005)
            if any(s == "B1" for s, *_ in gated.sent):
                break
        assert any(s == "B1" for s, *_ in gated.sent), "B1 was not planned while A1 was still answering"
    finally:
        gated.gate.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_next_cycle_waits_until_the_last_decreases_are_answered(clock, stations):
    """Decreases first also across cycles: no new plan while a decrease is unanswered."""
    import asyncio
    import contextlib

    gated = GatedStations(stations)
    obs = SiteObservations(clock.now)
    topo = compile_site(two_zone_site(), catalogue())
    loop = ControlLoop(lambda: topo, obs, gated, clock, cycle_s=60.0, lease_s=120, call_timeout_s=1.0)
    for sid in ("A1", "A2"):
        connect(obs, stations, sid)
    obs.connector_status("A1", 1, "Charging")
    obs.transaction_started("A1", 1, 1, "T1", T0, 0)
    await loop.cycle()  # A1 at 32 A, answered
    gated.gate.clear()
    obs.connector_status("A2", 1, "Charging")
    obs.transaction_started("A2", 1, 2, "T2", T0, 0)  # A1 must come down first
    task = asyncio.ensure_future(loop.run())
    try:
        for _ in range(100):
            await asyncio.sleep(0.005)
            if live_limits(gated.sent, "A1")[-1:] == [16]:
                break
        assert live_limits(gated.sent, "A1") == [32, 16]
        connect(obs, stations, "B1")  # wakes the loop: it must wait for A1's answer
        await asyncio.sleep(0.1)
        assert not any(s == "B1" for s, *_ in gated.sent)
        assert live_limits(gated.sent, "A2") == []
        gated.gate.set()  # A1 answers: A2's increase goes out, then B1 is planned
        for _ in range(100):
            await asyncio.sleep(0.005)
            if any(s == "B1" for s, *_ in gated.sent):
                break
        assert live_limits(gated.sent, "A2") == [16]
        assert any(s == "B1" for s, *_ in gated.sent)
    finally:
        gated.gate.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _run_until(predicate, timeout_s: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


def _status(loop, sid):
    observed = loop.last.snapshot.stations[sid].connectors.get(1)
    return None if observed is None else observed.status


@contextlib.asynccontextmanager
async def _running_loop(stations, *, cycle_s: float, min_cycle_s: float):
    """A loop on the real clock with station A1 connected, run until its first cycle."""
    from edgectl.clock import SystemClock

    clock = SystemClock()
    obs = SiteObservations(clock.now)
    topo = compile_site(two_zone_site(), catalogue())
    loop = ControlLoop(lambda: topo, obs, stations, clock, cycle_s=cycle_s, min_cycle_s=min_cycle_s, call_timeout_s=1.0)
    connect(obs, stations, "A1")
    task = asyncio.create_task(loop.run())
    try:
        assert await _run_until(lambda: loop.cycles >= 1, 5.0)
        yield loop, obs
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_an_event_after_a_quiet_spell_is_planned_at_once(stations):
    """min_cycle_s spaces event-started cycles only: the periodic cycle that
    just ran does not hold back the first event after it."""
    async with _running_loop(stations, cycle_s=5.0, min_cycle_s=10.0) as (loop, obs):
        await asyncio.sleep(0.3)
        obs.connector_status("A1", 1, "Preparing")
        seen = await _run_until(lambda: loop.last is not None and _status(loop, "A1") == "Preparing", 2.0)
        assert seen, "the event waited for min_cycle_s after the periodic cycle"


async def test_a_burst_of_events_coalesces_into_few_cycles(stations):
    async with _running_loop(stations, cycle_s=60.0, min_cycle_s=0.3) as (loop, obs):
        before = loop.cycles
        for i in range(20):  # 20 status changes over ~0.4 s
            obs.connector_status("A1", 1, "Preparing" if i % 2 == 0 else "Available")
            await asyncio.sleep(0.02)
        obs.connector_status("A1", 1, "Finishing")
        assert await _run_until(lambda: loop.last is not None and _status(loop, "A1") == "Finishing", 3.0)
        await asyncio.sleep(0.4)
        # One at once, then at most one per 0.3 s while the burst lasts (and the last change is seen).
        assert 2 <= loop.cycles - before <= 4
