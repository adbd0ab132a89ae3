"""SPEC §2 invariant: the allocation is deterministic for a given snapshot,
whatever the order of stations and zones in the site."""

from __future__ import annotations

import random
from dataclasses import replace

from .build import run, setpoints, topo
from .oracle import check_invariants
from .sites import synthetic_site, synthetic_snapshot


def test_same_input_twice_gives_identical_output():
    s = synthetic_site(120, seed=7)
    sn = synthetic_snapshot(s, seed=7)
    a, sa = run(s, sn)
    b, sb = run(s, sn)
    assert a.as_dict() == b.as_dict()
    assert sa == sb


def test_shuffled_site_order_gives_the_same_setpoints():
    s = synthetic_site(120, seed=3)
    sn = synthetic_snapshot(s, seed=3)
    a, _ = run(s, sn)
    rnd = random.Random(1)
    for _ in range(3):
        stations, zones = list(s.stations), list(s.zones)
        rnd.shuffle(stations)
        rnd.shuffle(zones)
        b, _ = run(replace(s, stations=tuple(stations), zones=tuple(zones)), sn)
        assert setpoints(b) == setpoints(a)


def test_snapshot_station_order_does_not_matter():
    s = synthetic_site(60, seed=5)
    sn = synthetic_snapshot(s, seed=5)
    items = list(sn.stations.items())
    random.Random(2).shuffle(items)
    a, _ = run(s, sn)
    b, _ = run(s, replace(sn, stations=dict(items)))
    assert setpoints(a) == setpoints(b)


def test_synthetic_sites_respect_every_invariant():
    for seed in range(4):
        s = synthetic_site(200, seed=seed)
        sn = synthetic_snapshot(s, seed=seed, offline_share=0.1, idle_share=0.1)
        alloc, _ = run(s, sn)
        check_invariants(topo(s), sn, alloc)
