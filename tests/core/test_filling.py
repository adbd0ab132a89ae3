"""SPEC §2 step 4: VIPs filled first up to their maximum, then max-min fair
water-filling in whole amps (leftover amps +1 A in rank order), per grid
phase through the wiring."""

from __future__ import annotations

from edgectl.core.phases import Phases

from .build import charging, conn, limit, result, run, setpoints, site, snap, station, topo, tri_site, zone, zres
from .oracle import check_invariants


def test_63_amps_five_three_phase_cars():
    s = tri_site(63, 5)
    sn = snap(s, {("S1", 1): 500, ("S2", 1): 100, ("S3", 1): 400, ("S4", 1): 200, ("S5", 1): 300})
    alloc, _ = run(s, sn)
    # rank by energy: S2, S4, S5, S3, S1 -> 13, 13, 13, 12, 12
    assert setpoints(alloc) == {("S2", 1): 13, ("S4", 1): 13, ("S5", 1): 13, ("S3", 1): 12, ("S1", 1): 12}
    assert zres(alloc, "z").used_a == Phases(63, 63, 63)
    check_invariants(topo(s), sn, alloc)


def test_single_car_gets_its_connector_max():
    s = tri_site(63, 1)
    alloc, _ = run(s, snap(s, {("S1", 1): 0}))
    assert setpoints(alloc) == {("S1", 1): 32}
    assert "connector_max" in result(alloc, ("S1", 1)).limited_by


def test_connector_max_frees_current_for_the_others():
    s = site([zone("z", 40)], [station("X", "z", conn(1, max_a=10)), station("Y", "z"), station("Z", "z")])
    alloc, _ = run(s, snap(s, {("X", 1): 0, ("Y", 1): 1, ("Z", 1): 2}))
    assert setpoints(alloc) == {("X", 1): 10, ("Y", 1): 15, ("Z", 1): 15}


def test_vip_filled_to_max_first_rest_shared():
    s = site([zone("z", 63)], [station("V", "z", vip=True), station("A", "z"), station("B", "z")])
    alloc, _ = run(s, snap(s, {("V", 1): 90_000, ("A", 1): 100, ("B", 1): 200}))
    assert setpoints(alloc) == {("V", 1): 32, ("A", 1): 16, ("B", 1): 15}


def test_vips_share_fairly_and_non_vips_keep_their_minimum():
    s = site([zone("z", 40)], [station("V1", "z", vip=True), station("V2", "z", vip=True), station("A", "z")])
    alloc, _ = run(s, snap(s, {("V1", 1): 0, ("V2", 1): 0, ("A", 1): 0}))
    assert setpoints(alloc) == {("V1", 1): 17, ("V2", 1): 17, ("A", 1): 6}


def test_mono_wiring_loads_only_its_grid_phase():
    s = site(
        [zone("z", 32)],
        [station("A", "z", conn(1, "MONO1")), station("B", "z", conn(1, "MONO1")), station("C", "z", conn(1, "MONO2"))],
    )
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("B", 1): 1, ("C", 1): 2}))
    assert setpoints(alloc) == {("A", 1): 16, ("B", 1): 16, ("C", 1): 32}
    assert zres(alloc, "z").used_a == Phases(32, 32, 0)
    assert result(alloc, ("C", 1)).load_a == Phases(0, 32, 0)


def test_three_phase_car_bound_by_its_busiest_phase():
    s = site(
        [zone("z", 32)],
        [station("T", "z"), station("M", "z", conn(1, "MONO1")), station("N", "z", conn(1, "MONO3"))],
    )
    alloc, _ = run(s, snap(s, {("T", 1): 0, ("M", 1): 1, ("N", 1): 2}))
    assert setpoints(alloc) == {("T", 1): 16, ("M", 1): 16, ("N", 1): 16}
    assert zres(alloc, "z").used_a == Phases(32, 16, 32)


def test_rotated_wirings_spread_mono_loads():
    # MONO2 and a TRI231 connector: both counted on every grid phase their wiring uses.
    s = site([zone("z", 40)], [station("A", "z", conn(1, "MONO2")), station("B", "z", conn(1, "TRI231"))])
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("B", 1): 1}))
    assert setpoints(alloc) == {("A", 1): 20, ("B", 1): 20}
    assert zres(alloc, "z").used_a == Phases(20, 40, 20)


def test_tri231_single_phase_car_is_mapped_to_grid_l2():
    # The car draws on station L1, i.e. grid L2. Other loads: 10 A on each phase.
    s = site([zone("z", 100, meter="m")], [station("A", "z", conn(1, "TRI231"))])
    sn = snap(s, {("A", 1): charging(current=(30, 0, 0))}, meters={"m": (10, 40, 10)})
    alloc, _ = run(s, sn)
    assert limit(alloc, "z") == (90, 90, 90)
    check_invariants(topo(s), sn, alloc)


def test_tri312_maps_station_l1_to_grid_l3():
    s = site([zone("z", 100, meter="m")], [station("A", "z", conn(1, "TRI312"))])
    sn = snap(s, {("A", 1): charging(current=(20, 5, 0))}, meters={"m": (10, 10, 30)})
    alloc, _ = run(s, sn)
    # grid L3 <- station L1 (20), grid L1 <- station L2 (5): other loads 5, 10, 10.
    assert limit(alloc, "z") == (95, 90, 90)


def test_mono3_car_reading_maps_to_grid_l3():
    s = site([zone("z", 100, meter="m")], [station("A", "z", conn(1, "MONO3"))])
    sn = snap(s, {("A", 1): charging(current=(25, 0, 0))}, meters={"m": (5, 5, 30)})
    alloc, _ = run(s, sn)
    assert limit(alloc, "z") == (95, 95, 95)


def test_without_optimisation_a_low_drawing_car_keeps_its_share():
    s = tri_site(40, 2)
    cars = {("S1", 1): charging(0, current=(3, 0, 0)), ("S2", 1): charging(1, current=(20, 20, 20))}
    alloc, _ = run(s, snap(s, cars))
    assert setpoints(alloc) == {("S1", 1): 20, ("S2", 1): 20}


def test_leftover_amps_follow_rank_order_across_nested_zones():
    s = site(
        [zone("main", 50), zone("a", 50, parent="main"), zone("b", 50, parent="main")],
        [station("A1", "a"), station("A2", "a"), station("B1", "b")],
    )
    alloc, _ = run(s, snap(s, {("A1", 1): 300, ("A2", 1): 100, ("B1", 1): 200}))
    assert setpoints(alloc) == {("A2", 1): 17, ("B1", 1): 17, ("A1", 1): 16}
