"""SPEC §2 "Digital inputs": an active input caps every zone at % x max,
the lowest active % wins, and time-of-use is ignored meanwhile."""

from __future__ import annotations

from edgectl.core.site import DigitalInput, Tou

from .build import T0, charging, limit, result, run, setpoints, site, snap, station, zone, zres
from .build import period as tou_period


def _dyn_site(**kw):
    return site(
        [zone("z", 100, meter="m", degraded_a=30)],
        [station("A", "z")],
        inputs=[DigitalInput(1, "grid", True, 70), DigitalInput(2, "peak", True, 10), DigitalInput(3, "off", False, 0)],
        **kw,
    )


def test_spec_example_70_percent_with_budget_90_gives_70():
    s = _dyn_site()
    alloc, _ = run(s, snap(s, {("A", 1): charging(current=(0, 0, 0))}, meters={"m": (10, 10, 10)}, inputs={1: True}))
    assert limit(alloc, "z") == (70, 70, 70)
    assert "di:1" in zres(alloc, "z").limited_by
    assert setpoints(alloc)[("A", 1)] == 32


def test_spec_example_70_percent_with_budget_50_gives_50():
    s = _dyn_site()
    alloc, _ = run(s, snap(s, {("A", 1): charging(current=(0, 0, 0))}, meters={"m": (50, 50, 50)}, inputs={1: True}))
    assert limit(alloc, "z") == (50, 50, 50)


def test_spec_example_10_percent_with_meter_lost_30_degraded_gives_10():
    s = _dyn_site()
    alloc, _ = run(s, snap(s, {("A", 1): 0}, inputs={2: True}))
    assert limit(alloc, "z") == (10, 10, 10)
    assert zres(alloc, "z").degraded
    assert setpoints(alloc)[("A", 1)] == 10


def test_several_active_inputs_lowest_percent_wins():
    s = _dyn_site()
    alloc, _ = run(s, snap(s, {("A", 1): 0}, meters={"m": (0, 0, 0)}, inputs={1: True, 2: True}))
    assert limit(alloc, "z") == (10, 10, 10)
    assert "di:2" in zres(alloc, "z").limited_by


def test_disabled_or_inactive_inputs_do_nothing():
    s = _dyn_site()
    alloc, _ = run(s, snap(s, {("A", 1): 0}, meters={"m": (0, 0, 0)}, inputs={1: False, 3: True}))
    assert limit(alloc, "z") == (100, 100, 100)


def test_unconfigured_channel_does_nothing():
    s = site([zone("z", 100)], [station("A", "z")], inputs=[DigitalInput(1, "grid", True, 50)])
    alloc, _ = run(s, snap(s, {("A", 1): 0}, inputs={2: True}))
    assert limit(alloc, "z") == (100, 100, 100)


def test_input_caps_every_zone_at_its_own_max():
    s = site(
        [zone("main", 200), zone("a", 100, parent="main"), zone("b", 40, parent="main")],
        [station("A", "a"), station("B", "b")],
        inputs=[DigitalInput(1, "grid", True, 50)],
    )
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("B", 1): 0}, inputs={1: True}))
    assert limit(alloc, "main") == (100, 100, 100)
    assert limit(alloc, "a") == (50, 50, 50)
    assert limit(alloc, "b") == (20, 20, 20)
    assert setpoints(alloc) == {("A", 1): 32, ("B", 1): 20}


def test_active_input_makes_time_of_use_ignored():
    # TOU at 20 % would give 20 A; the 70 % input applies alone: 70 A.
    tou = Tou(True, (tou_period("cheap-cut", 20, [("00:00", "23:59")]),))
    s = site([zone("z", 100)], [station("A", "z")], tou=tou, inputs=[DigitalInput(1, "grid", True, 70)])
    alloc, _ = run(s, snap(s, {("A", 1): 0}, at=T0, inputs={1: True}))
    assert limit(alloc, "z") == (70, 70, 70)
    assert not any(x.startswith("tou:") for x in zres(alloc, "z").limited_by)
    alloc, _ = run(s, snap(s, {("A", 1): 0}, at=T0))
    assert limit(alloc, "z") == (20, 20, 20)
    assert "tou:cheap-cut" in zres(alloc, "z").limited_by


def test_zero_percent_input_suspends_everything():
    s = site(
        [zone("main", 200), zone("a", 100, parent="main")],
        [station("A", "a"), station("B", "a")],
        inputs=[DigitalInput(1, "stop", True, 0)],
    )
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("B", 1): 5}, inputs={1: True}))
    assert setpoints(alloc) == {("A", 1): 0, ("B", 1): 0}
    assert result(alloc, ("A", 1)).state == "suspended"
