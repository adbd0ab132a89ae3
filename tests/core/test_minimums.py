"""SPEC §1 minimum charging currents: IEC 61851 6 A; EV/ZE ready 8 A single-
and 14 A three-phase; TE/domestic and Smart Wallbox T2/TE 10 A; City 14 A.
A connector is admitted only at or above its minimum."""

from __future__ import annotations

import pytest

from .build import conn, result, run, setpoints, site, snap, station, topo, zone


@pytest.mark.parametrize(
    ("policy", "model", "wiring", "socket", "minimum"),
    [
        ("iec61851", "generic_ac", "TRI123", "T2", 6),
        ("iec61851", "generic_ac", "MONO1", "T2", 6),
        ("evze", "generic_ac", "TRI123", "T2", 14),
        ("evze", "generic_ac", "MONO2", "T2", 8),
        ("iec61851", "evlink_parking", "MONO1", "TE", 10),
        ("iec61851", "generic_ac", "MONO1", "TE", 10),
        ("iec61851", "evlink_smart_wallbox", "TRI123", "T2/TE", 10),
        ("iec61851", "evlink_city", "TRI123", "T2", 14),
        ("evze", "evlink_city", "MONO1", "T2", 14),
        ("evze", "evlink_parking", "MONO1", "TE", 10),
    ],
)
def test_minimum_current_and_admission(policy, model, wiring, socket, minimum):
    def two_cars(max_a: int):
        return site(
            [zone("z", max_a)],
            [
                station("A", "z", conn(1, wiring, 32, socket), model=model),
                station("B", "z", conn(1, wiring, 32, socket), model=model),
            ],
            policy=policy,
        )

    s = two_cars(2 * minimum)
    assert {c.min_a for c in topo(s).connectors} == {minimum}
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("B", 1): 1}))
    assert setpoints(alloc) == {("A", 1): minimum, ("B", 1): minimum}
    assert result(alloc, ("A", 1)).min_current_a == minimum

    s = two_cars(2 * minimum - 1)
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("B", 1): 1}))
    assert setpoints(alloc) == {("A", 1): 2 * minimum - 1, ("B", 1): 0}
    assert result(alloc, ("B", 1)).state == "suspended"


def test_below_minimum_a_single_car_is_suspended_not_given_less():
    s = site([zone("z", 13)], [station("C", "z", model="evlink_city")])
    alloc, _ = run(s, snap(s, {("C", 1): 0}))
    assert setpoints(alloc) == {("C", 1): 0}
