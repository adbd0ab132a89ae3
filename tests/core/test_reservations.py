"""SPEC §2 step 2 and "Degraded mode": stations that lost the controller are
reserved at their fallback (static leaf: degraded setpoint; dynamic leaf: 0 A;
DC: last setpoint) in their zone and every ancestor, before sharing."""

from __future__ import annotations

from edgectl.core.phases import Phases
from edgectl.core.site import DigitalInput
from edgectl.core.state import AllocatorState

from .build import T0, conn, limit, minutes, result, run, setpoints, site, snap, station, topo, zone, zres
from .oracle import check_invariants


def _manual_site(**kw):
    """SPEC worked example: 51 A static zone, two 2-connector Parkings, one wallbox with a T2/TE card."""
    return site(
        [zone("z", 51)],
        [
            station("P1", "z", conn(1), conn(2), model="evlink_parking"),
            station("P2", "z", conn(1), conn(2), model="evlink_parking"),
            station("W", "z", conn(1, socket="T2/TE"), model="evlink_smart_wallbox"),
        ],
        **kw,
    )


def test_spec_example_degraded_setpoints_9_9_9_9_15():
    fallbacks = {c.key: c.fallback_a for c in topo(_manual_site()).connectors}
    assert fallbacks == {("P1", 1): 9, ("P1", 2): 9, ("P2", 1): 9, ("P2", 2): 9, ("W", 1): 15}


def test_spec_example_one_parking_drops_the_others_share_33():
    s = _manual_site()
    sn = snap(s, {("P1", 1): 100, ("P1", 2): 200, ("W", 1): 300}, absent=["P2"])
    alloc, _ = run(s, sn)
    sp = setpoints(alloc)
    assert sp[("P2", 1)] == sp[("P2", 2)] == 9
    assert result(alloc, ("P2", 1)).state == "offline"
    assert "offline" in result(alloc, ("P2", 1)).limited_by
    assert zres(alloc, "z").reserved_a == Phases(18, 18, 18)
    assert [sp[("P1", 1)], sp[("P1", 2)], sp[("W", 1)]] == [11, 11, 11]
    check_invariants(topo(s), sn, alloc)


def test_online_false_is_the_same_as_absent():
    s = _manual_site()
    cars = {("P1", 1): 100, ("P1", 2): 200, ("W", 1): 300}
    a, _ = run(s, snap(s, cars, absent=["P2"]))
    b, _ = run(s, snap(s, cars, offline=["P2"]))
    assert setpoints(a) == setpoints(b)
    assert result(b, ("P2", 2)).state == "offline"


def test_degraded_setpoints_zero_when_minimums_do_not_fit():
    s = site([zone("z", 11)], [station("A", "z"), station("B", "z")])
    assert {c.fallback_a for c in topo(s).connectors} == {0}


def test_degraded_setpoint_capped_at_connector_max():
    s = site([zone("z", 100)], [station("A", "z", conn(1, max_a=16)), station("B", "z")])
    fallbacks = {c.key: c.fallback_a for c in topo(s).connectors}
    assert fallbacks == {("A", 1): 16, ("B", 1): 32}  # scale 100/12: 6 x 8.33 = 50 -> capped


def test_dynamic_leaf_falls_back_to_zero_and_reserves_nothing():
    s = site([zone("z", 40, meter="m")], [station("A", "z"), station("B", "z")])
    assert {c.fallback_a for c in topo(s).connectors} == {0}
    sn = snap(s, {("B", 1): 0}, offline=["A"], meters={"m": (0, 0, 0)})
    alloc, _ = run(s, sn)
    assert setpoints(alloc) == {("A", 1): 0, ("B", 1): 32}
    assert result(alloc, ("A", 1)).state == "offline"
    assert zres(alloc, "z").reserved_a == Phases(0, 0, 0)


def test_reservation_counts_in_every_ancestor():
    # Scales: leaves 40/6, main 60/12 = 5 -> fallback 30 each.
    s = site(
        [zone("main", 60), zone("a", 40, parent="main"), zone("b", 40, parent="main")],
        [station("X", "a"), station("B", "b")],
    )
    assert {c.key: c.fallback_a for c in topo(s).connectors} == {("X", 1): 30, ("B", 1): 30}
    sn = snap(s, {("B", 1): 0}, absent=["X"])
    alloc, _ = run(s, sn)
    assert zres(alloc, "main").reserved_a == Phases(30, 30, 30)
    assert zres(alloc, "b").reserved_a == Phases(0, 0, 0)
    assert setpoints(alloc)[("B", 1)] == 30
    check_invariants(topo(s), sn, alloc)


def test_mono_reservation_only_on_its_grid_phase():
    s = site(
        [zone("z", 40)],
        [station("X", "z", conn(1, "MONO2")), station("A", "z", conn(1, "MONO2")), station("B", "z", conn(1, "MONO1"))],
    )
    fb = {c.key: c.fallback_a for c in topo(s).connectors}
    assert fb[("X", 1)] == 20  # L2 carries two 6 A minimums: scale 40/12
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("B", 1): 0}, absent=["X"]))
    assert zres(alloc, "z").reserved_a == Phases(0, 20, 0)
    assert setpoints(alloc)[("A", 1)] == 20
    assert setpoints(alloc)[("B", 1)] == 32


def test_dc_station_reserves_its_last_setpoint():
    s = site([zone("z", 50)], [station("D", "z", model="evlink_dc"), station("A", "z")])
    state = AllocatorState(setpoints={("D", 1): 40})
    sn = snap(s, {("A", 1): 0}, absent=["D"])
    alloc, _ = run(s, sn, state)
    assert result(alloc, ("D", 1)).state == "offline"
    assert setpoints(alloc)[("D", 1)] == 40
    assert zres(alloc, "z").reserved_a == Phases(40, 40, 40)
    assert setpoints(alloc)[("A", 1)] == 10
    check_invariants(topo(s), sn, alloc, state)


def test_dc_station_without_last_setpoint_reserves_zero():
    s = site([zone("z", 50)], [station("D", "z", model="evlink_dc"), station("A", "z")])
    alloc, _ = run(s, snap(s, {("A", 1): 0}, absent=["D"]))
    assert setpoints(alloc) == {("D", 1): 0, ("A", 1): 32}


def test_dc_online_is_controlled_like_ac():
    s = site([zone("z", 50)], [station("D", "z", conn(1, max_a=100), model="evlink_dc"), station("A", "z")])
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("D", 1): 1}))
    assert setpoints(alloc) == {("A", 1): 25, ("D", 1): 25}


def test_dc_last_setpoint_is_remembered_in_the_state():
    s = site([zone("z", 50)], [station("D", "z", model="evlink_dc"), station("A", "z")])
    _, state = run(s, snap(s, {("D", 1): 0, ("A", 1): 1}))
    assert state.setpoints[("D", 1)] == 25
    alloc, _ = run(s, snap(s, {("A", 1): 1}, absent=["D"]), state)
    assert setpoints(alloc) == {("D", 1): 25, ("A", 1): 25}


def test_reservations_above_the_limit_admit_nobody():
    # A 20 % input cuts the zone to 10.2 A, below P2's 18 A of fallbacks.
    s = _manual_site(inputs=[DigitalInput(1, "grid", True, 20)])
    sn = snap(s, {("P1", 1): 100, ("P1", 2): 200, ("W", 1): 300}, absent=["P2"], inputs={1: True})
    alloc, _ = run(s, sn)
    assert limit(alloc, "z")[0] <= 10.2
    sp = setpoints(alloc)
    assert [sp[("P1", 1)], sp[("P1", 2)], sp[("W", 1)]] == [0, 0, 0]
    assert sp[("P2", 1)] == 9  # the station still falls back on its own
    check_invariants(topo(s), sn, alloc)


def test_dc_reservation_survives_several_offline_cycles():
    s = site([zone("z", 50)], [station("D", "z", model="evlink_dc"), station("A", "z")])
    _, state = run(s, snap(s, {("D", 1): 0, ("A", 1): 1}))
    for minute in (1, 2, 30):
        alloc, state = run(s, snap(s, {("A", 1): 1}, absent=["D"], at=T0 + minutes(minute)), state)
        assert setpoints(alloc) == {("D", 1): 25, ("A", 1): 25}


def test_degraded_setpoints_use_the_worst_grid_phase():
    # L1 carries three MONO1 and one TRI minimum: 24 A; scale 30/24 = 1.25 -> floor(7.5) = 7.
    s = site(
        [zone("z", 30)],
        [
            station("M", "z", conn(1, "MONO1"), conn(2, "MONO1")),
            station("N", "z", conn(1, "MONO1")),
            station("T", "z", conn(1, "TRI123")),
        ],
    )
    assert {c.fallback_a for c in topo(s).connectors} == {7}
