"""The fast engine (flat columns, grouped admission, numpy water-filling)
gives exactly what the straightforward reference engine (tests/core/reference,
the engine before issue #2) gives: every result field, every zone figure to
the bit, and the carried state — over random sites and snapshots, two cycles
in a row, with consumption optimisation, car limits and overdraws (NaN
readings included)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgectl.core.engine import allocate
from edgectl.core.site import Site
from edgectl.core.snapshot import Snapshot
from edgectl.core.state import AllocatorParams, AllocatorState
from edgectl.core.topology import compile_site
from edgectl.stationmodels import catalogue

from .reference.engine import allocate as reference_allocate
from .reference.topology import compile_site as reference_compile
from .sites import synthetic_site, synthetic_snapshot
from .strategies import cases, snapshots

MODELS = catalogue()


def _same(
    site: Site, sn: Snapshot, state: AllocatorState | None, params: AllocatorParams | None = None, steady: bool = False
) -> AllocatorState:
    a, sa = allocate(compile_site(site, MODELS), sn, state, params, steady=steady)
    b, sb = reference_allocate(reference_compile(site, MODELS), sn, state, params, steady=steady)
    assert a.connectors == b.connectors
    for x, y in zip(a.connectors, b.connectors, strict=True):
        assert [type(v) for v in x.load_a] == [type(v) for v in y.load_a]
    for x, y in zip(a.zones, b.zones, strict=True):
        assert x == y
        assert [repr(v) for v in (*x.limit_a, *x.used_a, *x.reserved_a)] == [
            repr(v) for v in (*y.limit_a, *y.used_a, *y.reserved_a)
        ]
    assert a.as_dict() == b.as_dict()
    assert sa == sb
    assert list(sa.over_since) == list(sb.over_since)
    return sa


def _later(sn: Snapshot, minutes: int) -> Snapshot:
    shift = timedelta(minutes=minutes)
    meters = {
        k: replace(m, sampled_at=None if m.sampled_at is None else m.sampled_at + shift) for k, m in sn.meters.items()
    }
    return replace(sn, time=sn.time + shift, meters=meters)


def _with_car_limits(sn: Snapshot, rnd: random.Random) -> Snapshot:
    def car() -> float | None:
        return rnd.choice((None, None, rnd.uniform(0, 40), float(rnd.randint(4, 40))))

    return replace(
        sn,
        stations={
            sid: o._replace(connectors={cid: c._replace(car_max_a=car()) for cid, c in o.connectors.items()})
            for sid, o in sn.stations.items()
        },
    )


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.booleans(), st.booleans(), st.integers(0, 40))
def test_fast_engine_decides_as_the_reference(data: st.DataObject, optimise: bool, steady: bool, minutes: int):
    case = data.draw(cases(nan_readings=True))
    rnd = data.draw(st.randoms(use_true_random=False))
    sn = _with_car_limits(case.snapshot, rnd) if data.draw(st.booleans()) else case.snapshot
    s = replace(case.site, settings=replace(case.site.settings, consumption_optimisation=optimise))
    params = AllocatorParams(
        optimisation_delay_s=data.draw(st.sampled_from((0.0, 60.0))),
        overdraw_window_s=data.draw(st.sampled_from((0.0, 30.0))),
    )
    first = _same(s, sn, case.state, params, steady)
    nxt = data.draw(snapshots(s, nan_readings=True))
    nxt = _later(
        replace(
            nxt,
            time=sn.time,
            meters={
                k: replace(m, sampled_at=None if m.sampled_at is None else sn.time - (nxt.time - m.sampled_at))
                for k, m in nxt.meters.items()
            },
        ),
        minutes,
    )
    second = _same(s, nxt, first, params, steady)
    _same(s, _later(nxt, 1), second, params, steady)
    _same(s, _later(sn, minutes), first, params, steady)


def test_synthetic_sites_decide_as_the_reference():
    for seed in range(3):
        for n in (60, 400):
            for optimise in (False, True):
                s = synthetic_site(n, seed=seed)
                s = replace(s, settings=replace(s.settings, consumption_optimisation=optimise))
                sn = synthetic_snapshot(s, seed=seed, offline_share=0.1 * seed, idle_share=0.05 * seed)
                state = _same(s, sn, None)
                state = _same(s, _later(sn, 1), state)
                _same(s, _later(sn, 20), state)
