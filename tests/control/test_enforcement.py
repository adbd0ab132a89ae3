"""The profile planner: fallback on (re)connect, expiring live leases, decreases first."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from edgectl.adapters.ocpp.validation import check
from edgectl.core.enforcement import (
    FALLBACK_STACK,
    LIVE_STACK,
    Applied,
    ProfileCommand,
    ProfileKind,
    plan_profiles,
)
from edgectl.core.engine import allocate
from edgectl.core.snapshot import ConnectorObservation, Snapshot, StationObservation
from edgectl.core.topology import compile_site
from edgectl.stationmodels import catalogue

from .conftest import T0, two_zone_site

LEASE_S = 120


def charging(tx: int, energy_wh: float = 0.0) -> ConnectorObservation:
    return ConnectorObservation("Charging", "TAG", tx, T0, energy_wh)


def plan(observations, applied=None, transactions=None, now=T0):
    topo = compile_site(two_zone_site(), catalogue())
    snap = Snapshot(now, stations=observations)
    allocation, _ = allocate(topo, snap)
    connected = frozenset(observations)
    return plan_profiles(topo, allocation, applied or {}, transactions or {}, connected, now, LEASE_S), allocation


def test_fresh_connection_gets_fallback_without_expiry_and_live_with_lease():
    cmds, alloc = plan({"A1": StationObservation(True, {1: charging(7)})}, transactions={("A1", 1): 7})
    fallback = [c for c in cmds if c.kind is ProfileKind.FALLBACK]
    live = [c for c in cmds if c.kind is ProfileKind.LIVE]
    assert len(fallback) == 1 and len(live) == 1
    fb = fallback[0].as_ocpp()
    assert fb["stackLevel"] == FALLBACK_STACK and fb["chargingProfilePurpose"] == "TxDefaultProfile"
    assert "validTo" not in fb and "duration" not in fb["chargingSchedule"]
    lv = live[0].as_ocpp()
    assert lv["stackLevel"] == LIVE_STACK > FALLBACK_STACK
    assert lv["chargingProfilePurpose"] == "TxProfile" and lv["transactionId"] == 7
    assert live[0].valid_to == T0 + timedelta(seconds=LEASE_S)
    assert lv["chargingSchedule"]["duration"] >= LEASE_S
    setpoint = alloc.setpoints()[("A1", 1)]
    assert lv["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == float(setpoint)


def test_unchanged_setpoint_is_not_resent_until_lease_half_gone():
    obs = {"A1": StationObservation(True, {1: charging(7)})}
    cmds, alloc = plan(obs, transactions={("A1", 1): 7})
    sp = alloc.setpoints()[("A1", 1)]
    fb = next(c for c in cmds if c.kind is ProfileKind.FALLBACK).limit_a
    applied = {("A1", 1): Applied(fb, sp, T0 + timedelta(seconds=LEASE_S), 7)}
    cmds, _ = plan(obs, applied, {("A1", 1): 7}, now=T0 + timedelta(seconds=10))
    assert cmds == []
    cmds, _ = plan(obs, applied, {("A1", 1): 7}, now=T0 + timedelta(seconds=LEASE_S / 2 + 1))
    assert [c.kind for c in cmds] == [ProfileKind.LIVE]


def test_decreases_come_before_increases():
    # A1 has a live 32 A lease; a second car arrives: A1 must drop before A2 rises.
    obs = {"A1": StationObservation(True, {1: charging(7, 5000)}), "A2": StationObservation(True, {1: charging(8)})}
    applied = {
        ("A1", 1): Applied(16, 32, T0 + timedelta(seconds=100), 7),
        ("A2", 1): Applied(16, None, None, None),
    }
    cmds, _alloc = plan(obs, applied, {("A1", 1): 7, ("A2", 1): 8})
    kinds = [(c.station, c.decrease) for c in cmds]
    assert kinds.index(("A1", True)) < kinds.index(("A2", False))
    assert all(c.decrease for c in cmds[: next(i for i, c in enumerate(cmds) if not c.decrease)])


def test_idle_connector_with_running_lease_is_cleared():
    applied = {("A1", 1): Applied(16, 20, T0 + timedelta(seconds=60), 7)}
    cmds, _ = plan({"A1": StationObservation(True, {1: ConnectorObservation("Available")})}, applied)
    assert [c.kind for c in cmds] == [ProfileKind.CLEAR_LIVE]


def test_dc_setpoint_is_its_own_fallback():
    cmds, alloc = plan({"D1": StationObservation(True, {1: charging(9)})}, transactions={("D1", 1): 9})
    assert [c.kind for c in cmds] == [ProfileKind.FALLBACK]
    assert cmds[0].limit_a == alloc.setpoints()[("D1", 1)]


def test_disconnected_station_gets_nothing():
    topo = compile_site(two_zone_site(), catalogue())
    snap = Snapshot(T0, stations={"A1": StationObservation(True, {1: charging(7)})})
    allocation, _ = allocate(topo, snap)
    assert plan_profiles(topo, allocation, {}, {}, frozenset(), T0, LEASE_S) == []


@given(
    kind=st.sampled_from(list(ProfileKind)),
    connector=st.integers(0, 9),
    limit=st.integers(0, 80),
    phases=st.sampled_from((1, 3)),
    tx=st.none() | st.integers(1, 2**31 - 1),
    purpose=st.sampled_from(("TxProfile", "TxDefaultProfile")),
    at=st.datetimes(
        min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)  # noqa: DTZ001 - naive bounds, as hypothesis wants
    ),
    lease=st.none() | st.integers(1, 3600),
)
def test_the_pre_encoded_payload_is_the_encoded_dict(kind, connector, limit, phases, tx, purpose, at, lease):
    """What the applier writes (a hand-formatted template) is byte for byte
    what encoding `as_ocpp()` would give."""
    cmd = ProfileCommand(
        "S", connector, kind, limit, phases, LIVE_STACK, 2000 + connector, purpose, tx, at,
        None if lease is None else at + timedelta(seconds=lease), lease, False,
    )  # fmt: skip
    expected = json.dumps({"connectorId": connector, "csChargingProfiles": cmd.as_ocpp()}, separators=(",", ":"))
    assert cmd.payload_json() == expected
    check("SetChargingProfile", json.loads(cmd.payload_json()))  # and it is a valid 1.6 payload
