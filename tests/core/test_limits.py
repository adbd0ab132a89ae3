"""SPEC §2 step 1: effective zone limits — static, dynamic, degraded, remote,
parent bounds, and 0 % suspending everything below."""

from __future__ import annotations

import math
from datetime import timedelta

from edgectl.core.phases import Phases
from edgectl.core.snapshot import MeterReading
from edgectl.core.state import AllocatorState

from .build import T0, charging, conn, limit, result, run, setpoints, site, snap, station, topo, zone, zres
from .oracle import check_invariants


def test_static_zone_limit_is_max_current():
    s = site([zone("z", 80)], [station("A", "z")])
    alloc, _ = run(s, snap(s, {("A", 1): 0}))
    assert limit(alloc, "z") == (80, 80, 80)
    assert not zres(alloc, "z").degraded
    assert "max_current" in zres(alloc, "z").limited_by


def test_dynamic_budget_subtracts_other_loads_per_phase():
    # Other loads = meter - EV current: L1 30-10=20, L2 25-10=15, L3 10-10=0.
    s = site([zone("z", 100, meter="m")], [station("A", "z")])
    sn = snap(s, {("A", 1): charging(current=(10, 10, 10))}, meters={"m": (30, 25, 10)})
    alloc, _ = run(s, sn)
    assert limit(alloc, "z") == (80, 85, 100)
    assert "meter" in zres(alloc, "z").limited_by
    assert not zres(alloc, "z").degraded


def test_dynamic_budget_clamped_to_zero_and_max():
    s = site([zone("z", 50, meter="m")], [station("A", "z")])
    # L1 other loads 70 > max -> 0; L2 EV draws more than the meter (noise) -> max.
    sn = snap(s, {("A", 1): charging(current=(0, 20, 0))}, meters={"m": (70, 10, 0)})
    alloc, _ = run(s, sn)
    assert limit(alloc, "z") == (0, 50, 50)
    assert setpoints(alloc)[("A", 1)] == 0  # TRI car cannot use L1


def test_dynamic_ev_current_of_the_whole_subtree_counts():
    s = site(
        [zone("root", 100, meter="m"), zone("a", 60, parent="root"), zone("b", 60, parent="root")],
        [station("A", "a"), station("B", "b")],
    )
    cars = {("A", 1): charging(current=(10, 10, 10)), ("B", 1): charging(current=(20, 20, 20))}
    alloc, _ = run(s, snap(s, cars, meters={"m": (45, 40, 30)}))
    assert limit(alloc, "root") == (85, 90, 100)


def test_meter_lost_zone_is_static_at_degraded_current():
    s = site([zone("z", 100, meter="m", degraded_a=30)], [station("A", "z")])
    alloc, _ = run(s, snap(s, {("A", 1): 0}))
    assert limit(alloc, "z") == (30, 30, 30)
    assert zres(alloc, "z").degraded
    assert "degraded" in zres(alloc, "z").limited_by
    assert setpoints(alloc)[("A", 1)] == 30


def test_meter_lost_default_degraded_current_is_zero():
    s = site([zone("z", 100, meter="m")], [station("A", "z")])
    alloc, _ = run(s, snap(s, {("A", 1): 0}))
    assert limit(alloc, "z") == (0, 0, 0)
    assert result(alloc, ("A", 1)).state == "suspended"


def test_stale_meter_counts_as_lost_fresh_one_does_not():
    s = site([zone("z", 100, meter="m", degraded_a=20)], [station("A", "z")])
    old = MeterReading(Phases(10, 10, 10), sampled_at=T0 - timedelta(seconds=60))
    alloc, _ = run(s, snap(s, {("A", 1): 0}, meters={"m": old}))
    assert limit(alloc, "z") == (20, 20, 20) and zres(alloc, "z").degraded
    fresh = MeterReading(Phases(10, 10, 10), sampled_at=T0 - timedelta(seconds=2))
    alloc, _ = run(s, snap(s, {("A", 1): 0}, meters={"m": fresh}))
    assert limit(alloc, "z") == (90, 90, 90) and not zres(alloc, "z").degraded


def test_remote_setpoint_caps_the_zone():
    s = site([zone("z", 100)], [station("A", "z")])
    alloc, _ = run(s, snap(s, {("A", 1): 0}, remote={"z": 40}))
    assert limit(alloc, "z") == (40, 40, 40)
    assert "remote" in zres(alloc, "z").limited_by
    assert setpoints(alloc)[("A", 1)] == 32
    alloc, _ = run(s, snap(s, {("A", 1): 0}, remote={"z": 20}))
    assert setpoints(alloc)[("A", 1)] == 20


def test_remote_setpoint_above_max_does_not_raise_the_limit():
    s = site([zone("z", 50)], [station("A", "z")])
    alloc, _ = run(s, snap(s, {("A", 1): 0}, remote={"z": 80}))
    assert limit(alloc, "z") == (50, 50, 50)


def test_parent_bounds_its_whole_subtree():
    s = site(
        [zone("main", 40), zone("a", 40, parent="main"), zone("b", 40, parent="main")],
        [station("A1", "a"), station("A2", "a"), station("B1", "b")],
    )
    sn = snap(s, {("A1", 1): 100, ("A2", 1): 200, ("B1", 1): 300})
    alloc, _ = run(s, sn)
    sp = setpoints(alloc)
    assert sum(sp.values()) == 40
    assert sorted(sp.values()) == [13, 13, 14]
    assert sp[("A1", 1)] == 14  # leftover amp goes to the first in rank order
    check_invariants(topo(s), sn, alloc)


def test_three_levels_each_level_bounds():
    s = site(
        [zone("r", 60), zone("m", 50, parent="r"), zone("l", 20, parent="m"), zone("o", 60, parent="r")],
        [station("L1", "l"), station("L2", "l"), station("M", "l"), station("O", "o")],
    )
    cars = {("L1", 1): 1, ("L2", 1): 2, ("M", 1): 3, ("O", 1): 4}
    alloc, _ = run(s, snap(s, cars))
    sp = setpoints(alloc)
    # leaf l: 20 A for three cars -> 7, 7, 6; the other leaf takes the rest of r.
    assert [sp[("L1", 1)], sp[("L2", 1)], sp[("M", 1)]] == [7, 7, 6]
    assert sp[("O", 1)] == 32
    assert zres(alloc, "m").used_a == Phases(20, 20, 20)
    assert zres(alloc, "r").used_a == Phases(52, 52, 52)


def test_zero_percent_remote_on_parent_suspends_everything_below():
    s = site(
        [zone("main", 100), zone("a", 60, parent="main"), zone("b", 60, parent="main")],
        [station("A", "a"), station("B", "b")],
    )
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("B", 1): 0}, remote={"main": 0}))
    assert setpoints(alloc) == {("A", 1): 0, ("B", 1): 0}
    assert {result(alloc, k).state for k in setpoints(alloc)} == {"suspended"}


def test_limit_below_every_minimum_suspends_with_zone_reason():
    s = site([zone("z", 5)], [station("A", "z")])
    alloc, _ = run(s, snap(s, {("A", 1): 0}))
    r = result(alloc, ("A", 1))
    assert r.setpoint_a == 0 and r.state == "suspended"
    assert "min_current" in r.limited_by
    assert any(x.startswith("zone:z:L") for x in r.limited_by)


def test_idle_connector_gets_zero_with_status_reason():
    s = site([zone("z", 80)], [station("A", "z", conn(1), conn(2))])
    alloc, _ = run(s, snap(s, {("A", 1): 0}))
    r = result(alloc, ("A", 2))
    assert (r.setpoint_a, r.state) == (0, "idle")
    assert "status:Available" in r.limited_by
    assert result(alloc, ("A", 1)).setpoint_a == 32


def test_preparing_with_transaction_wants_current_faulted_does_not():
    s = site([zone("z", 80)], [station("A", "z", conn(1), conn(2))])
    cars = {("A", 1): charging(status="Preparing"), ("A", 2): charging(status="Faulted")}
    alloc, _ = run(s, snap(s, cars))
    assert result(alloc, ("A", 1)).setpoint_a == 32
    assert result(alloc, ("A", 2)).state == "idle"
    assert "status:Faulted" in result(alloc, ("A", 2)).limited_by


def test_nan_car_report_counts_zero_amps_and_never_raises_the_budget():
    # Issue #2: a NaN phase in a car's report counts 0 A in the EV estimate,
    # as an absent report (it used to count as the car's last setpoint, which
    # shrank the estimated non-EV load and enlarged the budget). Meter 30 A
    # per phase, B reports 10 A on every phase; A's report varies; both have
    # a last setpoint of 16 A (its cap in the estimate).
    s = site([zone("z", 100, meter="m")], [station("A", "z"), station("B", "z")])
    last = AllocatorState(setpoints={("A", 1): 16, ("B", 1): 16})
    nan = math.nan

    def budget(a_current: tuple[float, float, float] | None) -> tuple[float, ...]:
        cars = {("A", 1): charging(current=a_current), ("B", 1): charging(current=(10, 10, 10))}
        alloc, _ = run(s, snap(s, cars, meters={"m": (30, 30, 30)}), last)
        return limit(alloc, "z")

    #           A's report        budget = 100 - (30 - EV) per phase
    table = [
        (None, (80, 80, 80)),  # absent: A counts 0 A
        ((nan, nan, nan), (80, 80, 80)),  # all NaN: the same as absent
        ((12, nan, 12), (92, 80, 92)),  # a NaN phase counts 0 A on that phase only
        ((0, 0, 0), (80, 80, 80)),
        ((12, 12, 12), (92, 92, 92)),
    ]
    for report, want in table:
        assert budget(report) == want, report
    # A NaN never gives more than any real reading would: at most the budget of 0 A.
    assert all(b <= a for b, a in zip(budget((nan, nan, nan)), budget((0.0, 0.0, 0.0)), strict=True))
    for report in ((nan, 5.0, 5.0), (5.0, nan, 5.0), (5.0, 5.0, nan)):
        assert all(b <= a for b, a in zip(budget(report), budget((5.0, 5.0, 5.0)), strict=True))
