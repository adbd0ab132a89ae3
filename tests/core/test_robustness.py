"""Snapshots that do not match the site exactly must not crash the cycle or
grant current: unknown stations, connectors and zones are ignored."""

from __future__ import annotations

from dataclasses import replace

from edgectl.core.snapshot import StationObservation

from .build import charging, conn, result, run, setpoints, site, snap, station, zone


def test_unknown_station_connector_and_zone_in_the_snapshot_are_ignored():
    s = site([zone("z", 40)], [station("A", "z", conn(1), conn(2))])
    sn = snap(s, {("A", 1): 0}, remote={"nowhere": 0})
    stations = dict(sn.stations)
    stations["GHOST"] = StationObservation(True, {1: charging(0)})
    stations["A"] = stations["A"]._replace(connectors={**stations["A"].connectors, 9: charging(0)})
    alloc, _ = run(s, replace(sn, stations=stations))
    assert setpoints(alloc) == {("A", 1): 32, ("A", 2): 0}


def test_connector_missing_from_an_online_station_is_idle():
    s = site([zone("z", 40)], [station("A", "z", conn(1), conn(2))])
    sn = snap(s, {("A", 1): 0})
    stations = {"A": StationObservation(True, {1: sn.stations["A"].connectors[1]})}
    alloc, _ = run(s, replace(sn, stations=stations))
    assert result(alloc, ("A", 2)).state == "idle"
    assert setpoints(alloc) == {("A", 1): 32, ("A", 2): 0}


def test_zone_of_zero_amps_suspends_its_cars():
    s = site([zone("z", 0)], [station("A", "z")])
    alloc, _ = run(s, snap(s, {("A", 1): 0}))
    assert result(alloc, ("A", 1)).state == "suspended"


def test_connector_max_below_policy_minimum():
    s = site([zone("z", 40)], [station("A", "z", conn(1, max_a=5))])
    alloc, _ = run(s, snap(s, {("A", 1): 0}))
    assert setpoints(alloc) == {("A", 1): 5}
