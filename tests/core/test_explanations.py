"""`limited_by` reasons (vocabulary in edgectl/core/result.py): each setpoint
and zone limit says why, naming the binding zone and phase."""

from __future__ import annotations

from edgectl.core.phases import Phases
from edgectl.core.site import DigitalInput, Tou

from .build import conn, period, result, run, site, snap, station, topo, zone, zres


def _nested():
    return site(
        [zone("main", 80), zone("f1", 30, parent="main"), zone("f2", 60, parent="main")],
        [station("A", "f1"), station("B", "f1"), station("C", "f2"), station("D", "f2", conn(1, max_a=10))],
    )


def test_connector_names_the_zone_that_binds_it():
    s = _nested()
    alloc, _ = run(s, snap(s, {("A", 1): 1, ("B", 1): 2, ("C", 1): 3, ("D", 1): 4}))
    # f1 holds A and B at 15; main leaves 80 - 30 - 10 = 40 for C, capped at 32 -> C at max.
    assert result(alloc, ("A", 1)).setpoint_a == 15
    assert any(x.startswith("zone:f1:L") for x in result(alloc, ("A", 1)).limited_by)
    assert result(alloc, ("C", 1)).setpoint_a == 32
    assert "connector_max" in result(alloc, ("C", 1)).limited_by
    assert "connector_max" in result(alloc, ("D", 1)).limited_by


def test_parent_bound_is_named_on_the_connector():
    s = site(
        [zone("main", 40), zone("f1", 60, parent="main")],
        [station("A", "f1"), station("B", "f1")],
    )
    alloc, _ = run(s, snap(s, {("A", 1): 1, ("B", 1): 2}))
    assert any(x.startswith("zone:main:L") for x in result(alloc, ("A", 1)).limited_by)


def test_mono_connector_names_its_grid_phase():
    s = site([zone("z", 20)], [station("A", "z", conn(1, "MONO2")), station("B", "z", conn(1, "MONO2"))])
    alloc, _ = run(s, snap(s, {("A", 1): 1, ("B", 1): 2}))
    assert "zone:z:L2" in result(alloc, ("A", 1)).limited_by


def test_zone_reason_follows_the_zone_entry():
    s = site(
        [zone("z", 100)],
        [station("A", "z"), station("B", "z"), station("C", "z"), station("D", "z")],
        inputs=[DigitalInput(2, "grid", True, 50)],
    )
    alloc, _ = run(s, snap(s, {("A", 1): 1, ("B", 1): 2, ("C", 1): 3, ("D", 1): 4}, inputs={2: True}))
    reasons = result(alloc, ("A", 1)).limited_by
    assert any(x.startswith("zone:z:L") for x in reasons)
    assert "di:2" in reasons
    assert "max_current" not in reasons


def test_zone_reports_a_parent_below_its_own_limit():
    tou = Tou(True, (period("cut", 10, [("00:00", "23:59")], zones=["main"]),))
    s = site([zone("main", 100), zone("f1", 60, parent="main")], [station("A", "f1")], tou=tou)
    alloc, _ = run(s, snap(s, {("A", 1): 0}))
    assert "parent:main" in zres(alloc, "f1").limited_by
    assert "tou:cut" in zres(alloc, "main").limited_by


def test_vip_reason_and_flag():
    s = site([zone("z", 100)], [station("V", "z", vip=True)])
    alloc, _ = run(s, snap(s, {("V", 1): 0}))
    r = result(alloc, ("V", 1))
    assert r.vip and "vip" in r.limited_by


def test_static_leaf_under_dynamic_root_falls_back_within_its_degraded_current():
    # topology docstring: a dynamic ancestor bounds the fallbacks by its degraded_current.
    s = site([zone("root", 100, meter="m", degraded_a=0), zone("leaf", 60, parent="root")], [station("A", "leaf")])
    assert [c.fallback_a for c in topo(s).connectors] == [0]
    s = site(
        [zone("root", 100, meter="m", degraded_a=24), zone("leaf", 60, parent="root")],
        [station("A", "leaf"), station("B", "leaf")],
    )
    assert [c.fallback_a for c in topo(s).connectors] == [12, 12]


def test_suspended_connector_names_the_ancestor_that_did_not_fit():
    s = site([zone("main", 10), zone("f1", 60, parent="main")], [station("A", "f1"), station("B", "f1")])
    alloc, _ = run(s, snap(s, {("A", 1): 1, ("B", 1): 2}))
    r = result(alloc, ("B", 1))
    assert r.state == "suspended" and "min_current" in r.limited_by
    assert any(x.startswith("zone:main:L") for x in r.limited_by)
    assert not any(x.startswith("zone:f1:") for x in r.limited_by)


def test_dynamic_zone_reports_its_meter_reading():
    s = site([zone("z", 100, meter="m")], [station("A", "z")])
    alloc, _ = run(s, snap(s, {("A", 1): 0}, meters={"m": (1, 2, 3)}))
    assert zres(alloc, "z").measured_a == Phases(1, 2, 3)
    alloc, _ = run(s, snap(s, {("A", 1): 0}))
    assert zres(alloc, "z").measured_a is None
