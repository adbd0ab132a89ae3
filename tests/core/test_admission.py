"""SPEC §2 step 3: ranking (VIP first, then energy or duration priority, ties
by identity), greedy admission at the minimum, new arrivals ranked at once,
re-ranking every rotation period."""

from __future__ import annotations

from edgectl.core.site import Card

from .build import T0, charging, conn, minutes, result, run, setpoints, site, snap, station, topo, tri_site, zone
from .oracle import check_invariants


def _states(alloc):
    return {(c.station, c.connector): c.state.value for c in alloc.connectors}


def test_vip_station_admitted_before_least_energy():
    s = site([zone("z", 10)], [station("A", "z"), station("V", "z", vip=True)])
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("V", 1): 50_000}))
    assert setpoints(alloc) == {("A", 1): 0, ("V", 1): 10}
    assert "vip" in result(alloc, ("V", 1)).limited_by
    assert result(alloc, ("V", 1)).vip


def test_vip_card_admitted_first_case_insensitive():
    s = site([zone("z", 10)], [station("A", "z"), station("B", "z")], cards=[Card("BOSS01", vip=True)])
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("B", 1): charging(50_000, id_tag="boss01")}))
    assert setpoints(alloc) == {("A", 1): 0, ("B", 1): 10}


def test_non_vip_card_is_ordinary():
    s = site([zone("z", 10)], [station("A", "z"), station("B", "z")], cards=[Card("EMP", vip=False)])
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("B", 1): charging(50_000, id_tag="EMP")}))
    assert setpoints(alloc) == {("A", 1): 10, ("B", 1): 0}


def test_energy_priority_sheds_the_car_that_took_most():
    s = tri_site(15, 3)
    sn = snap(s, {("S1", 1): 5000, ("S2", 1): 100, ("S3", 1): 3000})
    alloc, _ = run(s, sn)
    assert setpoints(alloc) == {("S1", 1): 0, ("S2", 1): 8, ("S3", 1): 7}
    r = result(alloc, ("S1", 1))
    assert (
        r.state == "suspended" and "min_current" in r.limited_by and any(x.startswith("zone:z:L") for x in r.limited_by)
    )
    check_invariants(topo(s), sn, alloc)


def test_duration_priority_uses_charging_seconds():
    s = tri_site(15, 3, priority="duration")
    cars = {
        ("S1", 1): charging(0, charging_s=600),
        ("S2", 1): charging(9000, charging_s=7200),
        ("S3", 1): charging(0, charging_s=3600),
    }
    alloc, _ = run(s, snap(s, cars))
    assert setpoints(alloc) == {("S1", 1): 8, ("S2", 1): 0, ("S3", 1): 7}


def test_duration_priority_reads_a_running_charge_clock_at_the_snapshot_time():
    """The daemon's observations carry a running clock as its start; the
    duration is read at the snapshot's time: 600 s + 2 h running > 3,600 s."""
    s = tri_site(15, 3, priority="duration")
    cars = {
        ("S1", 1): charging(0, charging_s=600)._replace(charging_since=T0 - minutes(120)),
        ("S2", 1): charging(9000, charging_s=7200)._replace(charging_since=T0 + minutes(5)),  # not yet: + 0 s
        ("S3", 1): charging(0, charging_s=3600),
    }
    alloc, _ = run(s, snap(s, cars))
    assert setpoints(alloc) == {("S1", 1): 0, ("S2", 1): 7, ("S3", 1): 8}


def test_duration_priority_falls_back_to_time_since_start():
    s = tri_site(15, 3, priority="duration")
    cars = {
        ("S1", 1): charging(0, started=T0 - minutes(90)),
        ("S2", 1): charging(50_000, started=T0 - minutes(5)),
        ("S3", 1): charging(0, started=T0 - minutes(30)),
    }
    alloc, _ = run(s, snap(s, cars))
    assert setpoints(alloc) == {("S1", 1): 0, ("S2", 1): 8, ("S3", 1): 7}


def test_ties_broken_by_station_then_connector_id():
    s = site([zone("z", 10)], [station("B", "z"), station("A", "z", conn(2), conn(1))])
    alloc, _ = run(s, snap(s, {("B", 1): 0, ("A", 2): 0, ("A", 1): 0}))
    assert setpoints(alloc) == {("A", 1): 10, ("A", 2): 0, ("B", 1): 0}


def test_greedy_admission_skips_a_big_minimum_and_admits_a_smaller_one():
    # City (14 A) ranked first does not fit in 10 A; the 6 A car behind it does.
    s = site([zone("z", 10)], [station("C", "z", model="evlink_city"), station("A", "z")])
    alloc, _ = run(s, snap(s, {("C", 1): 0, ("A", 1): 100}))
    assert setpoints(alloc) == {("C", 1): 0, ("A", 1): 10}


def test_suspended_vip_does_not_block_non_vip_that_fits():
    s = site([zone("z", 10)], [station("V", "z", model="evlink_city", vip=True), station("A", "z")])
    sn = snap(s, {("V", 1): 0, ("A", 1): 100})
    alloc, _ = run(s, sn)
    assert setpoints(alloc) == {("V", 1): 0, ("A", 1): 10}
    check_invariants(topo(s), sn, alloc)


def test_new_arrival_displaces_the_one_that_has_taken_most():
    s = tri_site(13, 3)
    a1, st = run(s, snap(s, {("S1", 1): 1000, ("S2", 1): 2000}))
    assert setpoints(a1) == {("S1", 1): 7, ("S2", 1): 6, ("S3", 1): 0}
    a2, _ = run(s, snap(s, {("S1", 1): 1100, ("S2", 1): 2100, ("S3", 1): 0}, at=T0 + minutes(1)), st)
    assert setpoints(a2) == {("S1", 1): 6, ("S2", 1): 0, ("S3", 1): 7}


def test_ranking_stable_between_rotations_then_suspended_car_gets_its_turn():
    s = tri_site(13, 3)
    a1, st1 = run(s, snap(s, {("S1", 1): 0, ("S2", 1): 1000, ("S3", 1): 2000}))
    assert _states(a1)[("S3", 1)] == "suspended"
    # 10 min later S3 has the least energy but the ranking holds until rotation.
    sn2 = snap(s, {("S1", 1): 5000, ("S2", 1): 6000, ("S3", 1): 2000}, at=T0 + minutes(10))
    a2, st2 = run(s, sn2, st1)
    assert setpoints(a2) == setpoints(a1)
    assert list(st2.ranking) == list(st1.ranking)
    # Past the 15 min rotation: re-ranked, S3 in, S2 (most energy) out.
    sn3 = snap(s, {("S1", 1): 8000, ("S2", 1): 9000, ("S3", 1): 2000}, at=T0 + minutes(16))
    a3, st3 = run(s, sn3, st2)
    assert setpoints(a3) == {("S1", 1): 6, ("S2", 1): 0, ("S3", 1): 7}
    assert [k for k in st3.ranking if k[0].startswith("S")] == [("S3", 1), ("S1", 1), ("S2", 1)]


def test_rotation_period_is_the_site_setting():
    s = tri_site(13, 3, rotation_minutes=5)
    _, st1 = run(s, snap(s, {("S1", 1): 0, ("S2", 1): 1000, ("S3", 1): 2000}))
    a2, _ = run(s, snap(s, {("S1", 1): 5000, ("S2", 1): 6000, ("S3", 1): 2000}, at=T0 + minutes(6)), st1)
    assert setpoints(a2)[("S3", 1)] == 7


def test_fresh_state_ranks_everything_now():
    s = tri_site(13, 3)
    a, st = run(s, snap(s, {("S1", 1): 5000, ("S2", 1): 6000, ("S3", 1): 2000}, at=T0 + minutes(10)))
    assert setpoints(a) == {("S1", 1): 6, ("S2", 1): 0, ("S3", 1): 7}
    assert list(st.ranking) == [("S3", 1), ("S1", 1), ("S2", 1)]


def test_vip_arrival_jumps_the_ranking_between_rotations():
    s = site([zone("z", 13)], [station("S1", "z"), station("S2", "z"), station("V", "z", vip=True)])
    _, st = run(s, snap(s, {("S1", 1): 0, ("S2", 1): 1000}))
    a, _ = run(s, snap(s, {("S1", 1): 100, ("S2", 1): 1100, ("V", 1): 90_000}, at=T0 + minutes(2)), st)
    assert setpoints(a) == {("V", 1): 7, ("S1", 1): 6, ("S2", 1): 0}
