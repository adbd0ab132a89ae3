"""The engine's numpy steps (issue #2, second round) against the plain loops
they replace: admission in runs, the EV current of a dynamic zone as an
in-order cumulative sum, overdraws found with arrays, the stored ranking
read back from the memo. Plus whole cycles on sites large enough for the
long runs, compared with the reference engine."""

from __future__ import annotations

import gc
import math
import random
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgectl.core.engine import _admit, _Draws, _ev_current, allocate
from edgectl.core.phases import Phases
from edgectl.core.snapshot import Snapshot
from edgectl.core.state import AllocatorParams, AllocatorState
from edgectl.core.topology import Flat, compile_site
from edgectl.gcpolicy import CollectorHold
from edgectl.stationmodels import catalogue

from .sites import synthetic_site, synthetic_snapshot
from .test_reference_equivalence import _later, _same, _with_car_limits

MODELS = catalogue()
_EPS = 1e-6


def _admit_one_by_one(
    flat: Flat, order: list[int], room: list[float]
) -> tuple[list[int], list[tuple[int, int]], list[float]]:
    """Admission as SPEC §2 words it: in rank order, at its minimum, where
    every constraint it loads (in its own order) has room."""
    admitted: list[int] = []
    suspended: list[tuple[int, int]] = []
    for i in order:
        need = flat.min_a[i]
        ks = flat.group_constraints[flat.group[i]]
        full = next((k for k in ks if room[k] < need - _EPS), None)
        if full is not None:
            suspended.append((i, full))
            continue
        for k in ks:
            room[k] -= need
        admitted.append(i)
    return admitted, suspended, room


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.integers(20, 1500),
    st.integers(0, 10_000),
    st.floats(0.0, 1.3),
    st.floats(0.0, 0.99),
    st.booleans(),
)
def test_admission_in_runs_is_admission_one_by_one(n: int, seed: int, fill: float, fraction: float, spread: bool):
    flat = compile_site(synthetic_site(n, seed=seed), MODELS).flat
    rnd = random.Random(seed)
    order = [i for i in range(len(flat.keys)) if rnd.random() < 0.9]
    rnd.shuffle(order)
    demand = flat.incidence @ np.bincount(
        [flat.group[i] for i in order],
        weights=[flat.min_a[i] for i in order],
        minlength=len(flat.group_constraints),
    )
    # Rooms from "nearly everyone fits" to "hardly anyone", with fractional amps.
    scale = np.array([rnd.uniform(0.0, 1.3) if spread else fill for _ in range(len(demand))])
    room = np.floor(demand * scale) + fraction
    suspended: tuple[list[int], list[int]] = ([], [])
    admitted, left = _admit(flat, np.asarray(order, dtype=np.intp), room.copy(), suspended)
    want_admitted, want_suspended, want_left = _admit_one_by_one(flat, order, room.tolist())
    assert admitted.tolist() == want_admitted
    assert list(zip(*suspended, strict=True)) == want_suspended
    assert [repr(v) for v in left.tolist()] == [repr(v) for v in want_left]


def _ev_loop(flat: Flat, n_zones: int, currents: list[Phases | None], last: list[int | None]) -> list[list[float]]:
    grid_of = ((0, 1, 2), (1, 2, 0), (2, 0, 1), (0,), (1,), (2,))
    ev = [[0.0, 0.0, 0.0] for _ in range(n_zones)]
    for i, dyn in enumerate(flat.dynamic_path):
        current = currents[i]
        if dyn is None or current is None:
            continue
        for station_phase, grid_phase in enumerate(grid_of[flat.wiring[i]]):
            value = current[station_phase]
            if math.isnan(value):  # a NaN phase counts 0 A (issue #2)
                value = 0.0
            cap = last[i]
            if cap is not None and not value < cap:
                value = cap
            for zi in dyn:
                ev[zi][grid_phase] += value
    return ev


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(1, 400), st.integers(0, 10_000))
def test_ev_current_with_numpy_adds_like_the_loop(n: int, seed: int):
    rnd = random.Random(seed)
    topology = compile_site(synthetic_site(n, seed=seed), MODELS)
    flat = topology.flat
    assert flat.shared_dynamic is not None  # the synthetic root is metered

    def reading() -> float:
        return rnd.choice((rnd.uniform(0, 40), float(rnd.randint(0, 32)), -0.0, 0.0, math.nan, math.inf, 1e-300))

    currents: list[Phases | None] = [
        None if rnd.random() < 0.2 else Phases(reading(), reading(), reading()) for _ in flat.keys
    ]
    last: list[int | None] = [None if rnd.random() < 0.3 else rnd.randint(0, 32) for _ in flat.keys]
    n_zones = len(topology.zone_ids)
    got = _ev_current(flat, n_zones, currents, last, _Draws(currents, last))
    want = _ev_loop(flat, n_zones, currents, last)
    assert [repr(v) for p in got for v in p] == [repr(v) for p in want for v in p]
    looped = _ev_current(replace(flat, shared_dynamic=None), n_zones, currents, last, _Draws(currents, last))
    assert [repr(v) for p in looped for v in p] == [repr(v) for p in want for v in p]


def _with_overdraws(sn: Snapshot, rnd: random.Random, readings: tuple[float, ...]) -> Snapshot:
    """Some cars draw well above any setpoint (or report a NaN)."""

    def current(c: Phases | None) -> Phases | None:
        if c is None or rnd.random() < 0.7:
            return c
        return Phases(*(rnd.choice(readings) if rnd.random() < 0.5 else v for v in c))

    return replace(
        sn,
        stations={
            sid: o._replace(
                connectors={cid: c._replace(current_a=current(c.current_a)) for cid, c in o.connectors.items()}
            )
            for sid, o in sn.stations.items()
        },
    )


def test_large_sites_decide_as_the_reference():
    """Sites big enough for long admitted runs, refused runs and the
    one-by-one stretches in between; cycles carried one into the next."""
    for seed, n in ((1, 2_500), (2, 4_000)):
        rnd = random.Random(seed)
        s = synthetic_site(n, seed=seed)
        sn = synthetic_snapshot(s, seed=seed, offline_share=0.05, idle_share=0.05)
        params = AllocatorParams(overdraw_window_s=0.0)
        state = _same(s, sn, None, params)
        state = _same(s, _later(sn, 1), state, params)
        state = _same(s, _with_overdraws(_later(sn, 2), rnd, (40.0, 63.0)), state, params)
        state = _same(s, _with_car_limits(_later(sn, 3), rnd), state, params)
        state = _same(s, _later(sn, 30), state, params)
        # A NaN in a report takes the one-by-one rules, within the window and
        # past it (where a NaN on a loaded phase suspends the connector).
        fresh = replace(state, over_since={})
        state = _same(s, _with_overdraws(_later(sn, 31), rnd, (40.0, math.nan)), fresh, AllocatorParams())
        _same(s, _with_overdraws(_later(sn, 32), rnd, (40.0, math.nan)), state, AllocatorParams())


def test_stored_ranking_is_read_back_alike_from_the_memo_or_from_the_keys():
    site = synthetic_site(300, seed=3)
    sn = synthetic_snapshot(site, seed=3)
    topology = compile_site(site, MODELS)
    _a, state = allocate(topology, sn)
    again, state2 = allocate(topology, _later(sn, 1), state)  # from the memo
    assert state2.ranking is state.ranking
    fresh_topology = compile_site(site, MODELS)  # no memo: from the keys
    copied = AllocatorState(tuple(state.ranking), state.ranked_at, dict(state.setpoints), {}, {})
    again2, state3 = allocate(fresh_topology, _later(sn, 1), copied)
    assert again2 == again
    assert state3.ranking == state2.ranking


def test_cycles_with_the_collector_held_decide_as_with_it_running():
    """The engine reads the observations by transposition when the cyclic
    collector is held off (as the daemon holds it), by attribute otherwise:
    the same decisions, the same carried state."""
    rnd = random.Random(5)
    s = synthetic_site(1_200, seed=5)
    sn = synthetic_snapshot(s, seed=5, offline_share=0.05, idle_share=0.05)
    snapshots = [
        sn,
        _later(sn, 1),
        _with_car_limits(_later(sn, 2), rnd),
        _with_overdraws(_later(sn, 3), rnd, (40.0, 63.0)),
    ]
    topology = compile_site(s, MODELS)
    state_running: AllocatorState | None = None
    state_held: AllocatorState | None = None
    assert gc.isenabled()
    for snap in snapshots:
        running, state_running = allocate(topology, snap, state_running)
        hold = CollectorHold().hold()
        try:
            assert not gc.isenabled()
            held, state_held = allocate(topology, snap, state_held)
        finally:
            hold.release()
        assert held == running
        assert state_held == state_running
    # And the same as the reference engine, held.
    hold = CollectorHold().hold()
    try:
        _same(s, snapshots[-1], None)
    finally:
        hold.release()
