"""One allocation cycle: snapshot in, one whole-amp setpoint per connector out.

The steps of SPEC §2, in order:
1. effective zone limits (edgectl.core.limits);
2. reservations: every connector of a station that lost the controller is
   assumed to draw its fallback (static leaf: degraded setpoint, dynamic
   leaf: 0 A, DC: its last setpoint), in its zone and every ancestor;
3. admission (edgectl.core.ranking): in rank order, each connector that wants
   current is admitted at its minimum where every zone on its path has room
   on every grid phase it loads; the rest are suspended;
4. filling (edgectl.core.fill): VIPs first up to their maximum, then the
   others, max-min fair;
5. consumption optimisation: a connector that has drawn clearly less than
   its setpoint for a while is accounted at its draw plus a margin;
6. output: whole amps, each with the reasons that bound it. A connector whose
   station has drawn clearly more than its setpoint for longer than the EV
   reaction window (`not_respecting`) keeps its fair share in the accounting,
   but its setpoint is lowered by the excess, so that what it really draws
   fits its share and nobody else pays for it.

Pure and deterministic: iteration follows the topology's order and the
explicit ranking; nothing is read from a clock; state goes in and out.
"""

from __future__ import annotations

import math
from datetime import datetime

from edgectl.core.phases import PHASE_NAMES, ZERO, Phases
from edgectl.core.result import Allocation, ConnectorResult, ConnectorState, ZoneResult
from edgectl.core.site import SheddingPriority
from edgectl.core.snapshot import ConnectorObservation, Snapshot
from edgectl.core.state import AllocatorParams, AllocatorState

from .fill import AT_MAX, Pairs, water_fill
from .limits import ZoneLimit, zone_limits
from .ranking import Candidate, rank
from .topology import ConnectorKey, ConnectorSpec, Topology

_EPS = 1e-6
_NO_OBSERVATION = ConnectorObservation()
_Since = tuple[datetime | None, datetime | None, datetime | None]


def allocate(
    topology: Topology,
    snapshot: Snapshot,
    state: AllocatorState | None = None,
    params: AllocatorParams | None = None,
    *,
    steady: bool = False,
) -> tuple[Allocation, AllocatorState]:
    """Run one cycle.

    `steady=True` (used by `edgectl plan`) treats the observed draws as
    sustained, so consumption optimisation applies without history.
    """
    state = state or AllocatorState()
    params = params or AllocatorParams()
    settings = topology.site.settings
    n_zones = len(topology.zone_ids)
    optimise = settings.consumption_optimisation

    # --- classify connectors, measure EV current per zone (grid phases) ---
    ev_grid = [[0.0, 0.0, 0.0] for _ in range(n_zones)]
    reserved = [0.0] * (n_zones * 3)
    offline: list[tuple[ConnectorSpec, int]] = []
    wanting: list[tuple[ConnectorSpec, ConnectorObservation]] = []
    observed: dict[ConnectorKey, ConnectorObservation] = {}
    for spec in topology.connectors:
        station = snapshot.stations.get(spec.key[0])
        if station is None or not station.online:
            fallback = state.setpoints.get(spec.key, 0) if spec.dc else spec.fallback_a
            offline.append((spec, fallback))
            for _p, ks in spec.phase_constraints:
                for k in ks:
                    reserved[k] += fallback
            continue
        obs = station.connectors.get(spec.key[1], _NO_OBSERVATION)
        observed[spec.key] = obs
        current = obs.current_a
        if current is not None and spec.dynamic_path:
            # A car's report lags the zone meter; counted at no more than its
            # last setpoint, a stale high report cannot inflate the budget
            # (under-counting a car only makes the budget smaller). A NaN
            # phase counts 0 A, as an absent report (issue #2 fix, as in the
            # engine).
            cap = state.setpoints.get(spec.key)
            for zi in spec.dynamic_path:
                acc = ev_grid[zi]
                for station_phase, grid_phase in enumerate(spec.wiring_map):
                    value = current[station_phase]
                    if math.isnan(value):
                        value = 0.0
                    acc[grid_phase] += value if cap is None or value < cap else cap
        if obs.wants_current:
            wanting.append((spec, obs))

    limits = zone_limits(topology, snapshot, params, [Phases(*v) for v in ev_grid])
    room = [0.0] * (n_zones * 3)
    for zi, lim in enumerate(limits):
        for p in range(3):
            room[zi * 3 + p] = lim.limit_a[p] - reserved[zi * 3 + p]

    # --- ranking and admission ---
    by_duration = settings.shedding_priority is SheddingPriority.DURATION
    candidates = [_candidate(topology, spec, obs, snapshot, by_duration) for spec, obs in wanting]
    order, ranking, ranked_at = rank(candidates, state, snapshot.time, settings)
    under_since: dict[ConnectorKey, _Since] = {}
    over_since: dict[ConnectorKey, datetime] = {}
    excess: dict[ConnectorKey, int] = {}
    for cand in order:
        over = _overdraw(cand.spec, cand.obs, state, snapshot, params)
        if over is not None:
            over_since[cand.spec.key], amps = over
            if amps > 0:
                excess[cand.spec.key] = amps
    admitted: list[tuple[Candidate, tuple[int, int, Pairs], tuple[float, float, float] | None]] = []
    suspended: dict[ConnectorKey, int] = {}
    for cand in order:
        spec = cand.spec
        caps: tuple[float, float, float] | None = None
        if optimise:
            caps, since = _draw_caps(spec, cand.obs, state, snapshot, params, steady)
            under_since[spec.key] = since
        if caps is None:
            need = float(cand.min_a)
            failed = next((k for k in spec.constraints if room[k] < need - _EPS), None)
            if failed is not None:
                suspended[spec.key] = failed
                continue
            for k in spec.constraints:
                room[k] -= need
            member = (cand.min_a, cand.max_a, _pairs(spec, cand.max_a))
        else:
            accounted = (min(cand.min_a, caps[0]), min(cand.min_a, caps[1]), min(cand.min_a, caps[2]))
            failed = _first_full(spec, accounted, room)
            if failed is not None:
                suspended[spec.key] = failed
                continue
            for p, ks in spec.phase_constraints:
                for k in ks:
                    room[k] -= accounted[p]
            member = _capped_member(cand, caps)
        admitted.append((cand, member, caps))

    # --- filling: VIPs first, then everyone else ---
    vips = [a for a in admitted if a[0].vip]
    rest = [a for a in admitted if not a[0].vip]
    filled = water_fill(room, [m for _c, m, _caps in vips]) + water_fill(room, [m for _c, m, _caps in rest])
    outcome = [(c, level, binding, caps) for (c, _m, caps), (level, binding) in zip(vips + rest, filled, strict=True)]

    # --- output ---
    return _results(
        topology, snapshot, limits, offline, observed, outcome, suspended, ranking, ranked_at, under_since, order,
        over_since, excess,
    )


def _candidate(
    topology: Topology, spec: ConnectorSpec, obs: ConnectorObservation, snapshot: Snapshot, by_duration: bool
) -> Candidate:
    vip = spec.vip_station or (obs.id_tag is not None and obs.id_tag.upper() in topology.vip_cards)
    hi = spec.max_a
    car_limited = False
    if obs.car_max_a is not None and obs.car_max_a < hi:
        hi = max(spec.min_a, int(obs.car_max_a))
        car_limited = True
    if not by_duration:
        duration_s = 0.0  # not a ranking key under energy priority
    elif obs.charging_s is not None:
        duration_s = obs.charging_at(snapshot.time)
    elif obs.started is not None:
        duration_s = max(0.0, (snapshot.time - obs.started).total_seconds())
    else:
        duration_s = 0.0
    return Candidate(spec, obs, vip, spec.min_a, hi, car_limited, obs.energy_wh, duration_s)


def _draw_caps(
    spec: ConnectorSpec,
    obs: ConnectorObservation,
    state: AllocatorState,
    snapshot: Snapshot,
    params: AllocatorParams,
    steady: bool,
) -> tuple[tuple[float, float, float], _Since]:
    """Per grid phase: the amps this connector is accounted at (inf = its setpoint)."""
    if obs.current_a is None:
        return (math.inf, math.inf, math.inf), (None, None, None)
    grid = spec.to_grid(obs.current_a)
    last = state.setpoints.get(spec.key)
    if last is None:
        last = spec.max_a if steady else None
    previous = state.under_since.get(spec.key, (None, None, None))
    caps = [math.inf, math.inf, math.inf]
    since: list[datetime | None] = [None, None, None]
    for p in range(3):
        if not spec.used[p] or last is None:
            continue
        if grid[p] + params.optimisation_threshold_a < last:
            start = previous[p] or snapshot.time
            since[p] = start
            held_s = math.inf if steady else (snapshot.time - start).total_seconds()
            if held_s >= params.optimisation_delay_s:
                caps[p] = grid[p] + params.optimisation_margin_a
    return (caps[0], caps[1], caps[2]), (since[0], since[1], since[2])


def _overdraw(
    spec: ConnectorSpec, obs: ConnectorObservation, state: AllocatorState, snapshot: Snapshot, params: AllocatorParams
) -> tuple[datetime, int] | None:
    """(since when, whole amps of excess once past the window) for a connector
    drawing clearly more than its last setpoint; None while it respects it."""
    last = state.setpoints.get(spec.key)
    if obs.current_a is None or last is None or all(v <= last + params.overdraw_margin_a for v in obs.current_a):
        return None  # the common case, decided without mapping the wiring
    grid = spec.to_grid(obs.current_a)
    overs = [grid[p] - last for p in range(3) if spec.used[p]]
    # A NaN on a loaded phase (issue #2 fix, as in the engine): unknown, so not
    # shown to respect the setpoint; past the window cut by the whole maximum.
    unknown = any(math.isnan(v) for v in overs)
    if not unknown and max(overs) <= params.overdraw_margin_a:
        return None
    since = state.over_since.get(spec.key, snapshot.time)
    if (snapshot.time - since).total_seconds() < params.overdraw_window_s:
        return since, 0
    return since, spec.max_a if unknown else math.ceil(max(overs))


def _first_full(spec: ConnectorSpec, accounted: tuple[float, ...], room: list[float]) -> int | None:
    for p, ks in spec.phase_constraints:
        need = accounted[p]
        for k in ks:
            if room[k] < need - _EPS:
                return k
    return None


def _pairs(spec: ConnectorSpec, hi: int) -> Pairs:
    return spec.pairs_at_max if hi == spec.max_a else tuple((k, hi) for k in spec.constraints)


def _capped_member(cand: Candidate, caps: tuple[float, float, float]) -> tuple[int, int, Pairs]:
    spec = cand.spec
    hi = cand.max_a
    capped = [c for p, c in enumerate(caps) if spec.used[p]]
    if capped and all(c != math.inf for c in capped):
        # Every phase it loads is capped: keep the setpoint near the draw so a
        # car that suddenly wants more overshoots by a margin, not by its share.
        hi = max(cand.min_a, min(hi, int(max(capped) + 2.0)))
    pairs: list[tuple[int, int]] = []
    for p, ks in spec.phase_constraints:
        cap = caps[p]
        if cap <= cand.min_a:
            continue  # its load on p stays at the draw: no constraint there
        ph = hi if cap == math.inf else max(cand.min_a, min(hi, int(cap)))
        if ph > cand.min_a:
            pairs.extend((k, ph) for k in ks)
    return cand.min_a, hi, tuple(pairs)


def _results(
    topology: Topology,
    snapshot: Snapshot,
    limits: list[ZoneLimit],
    offline: list[tuple[ConnectorSpec, int]],
    observed: dict[ConnectorKey, ConnectorObservation],
    outcome: list[tuple[Candidate, int, int, tuple[float, float, float] | None]],
    suspended: dict[ConnectorKey, int],
    ranking: tuple[ConnectorKey, ...],
    ranked_at: datetime | None,
    under_since: dict[ConnectorKey, _Since],
    order: list[Candidate],
    over_since: dict[ConnectorKey, datetime],
    excess: dict[ConnectorKey, int],
) -> tuple[Allocation, AllocatorState]:
    zone_ids = topology.zone_ids
    zone_why = [tuple(r for r in lim.reasons if r != "max_current") for lim in limits]

    why_cache: dict[int, tuple[str, ...]] = {}

    def why_zone(k: int) -> tuple[str, ...]:
        why = why_cache.get(k)
        if why is None:
            zi, p = divmod(k, 3)
            why = why_cache[k] = (f"zone:{zone_ids[zi]}:{PHASE_NAMES[p]}", *zone_why[zi])
        return why

    n_zones = len(zone_ids)
    used = [0.0] * (n_zones * 3)
    reserved = [0.0] * (n_zones * 3)
    by_key: dict[ConnectorKey, ConnectorResult] = {}
    vip_keys = {c.spec.key for c in order if c.vip}
    cand_by_key = {c.spec.key: c for c in order}

    for spec, fallback in offline:
        load = spec.load(fallback)
        for _p, ks in spec.phase_constraints:
            for k in ks:
                reserved[k] += fallback
        by_key[spec.key] = ConnectorResult(
            spec.key[0], spec.key[1], fallback, ConnectorState.OFFLINE, ("offline",), fallback, load,
            False, spec.min_a, spec.max_a,
        )

    for cand, setpoint, binding, caps in outcome:
        spec = cand.spec
        why: list[str] = ["vip"] if cand.vip else []
        if binding != AT_MAX:
            why.extend(why_zone(binding))
        elif cand.car_limited and setpoint >= cand.max_a:
            why.append("car_max")
        elif setpoint >= spec.max_a:
            why.append("connector_max")
        if caps is None:
            load = spec.load(setpoint)
            for k in spec.constraints:
                used[k] += setpoint
        else:
            values = [0.0, 0.0, 0.0]
            for p, ks in spec.phase_constraints:
                values[p] = min(float(setpoint), caps[p])
                for k in ks:
                    used[k] += values[p]
            load = Phases(*values)
            if any(caps[p] != math.inf for p in range(3) if spec.used[p]):
                why.append("ev_draw")
        state_now = ConnectorState.CHARGING
        over_a = excess.get(spec.key)
        if over_a:
            # Its share stays `setpoint` in the accounting; it is told less, by
            # what it draws on top, so that its real draw fits that share.
            setpoint = setpoint - over_a
            if setpoint < cand.min_a:
                setpoint, state_now = 0, ConnectorState.SUSPENDED
            why.append("not_respecting")
        by_key[spec.key] = ConnectorResult(
            spec.key[0], spec.key[1], setpoint, state_now, tuple(why), spec.fallback_a,
            load, cand.vip, cand.min_a, cand.max_a,
        )

    for key, k in suspended.items():
        cand = cand_by_key[key]
        by_key[key] = ConnectorResult(
            key[0], key[1], 0, ConnectorState.SUSPENDED, ("min_current", *why_zone(k)), cand.spec.fallback_a, ZERO,
            key in vip_keys, cand.min_a, cand.max_a,
        )

    connectors: list[ConnectorResult] = []
    setpoints: dict[ConnectorKey, int] = {}
    for spec in topology.connectors:
        result = by_key.get(spec.key)
        if result is None:
            obs = observed.get(spec.key, _NO_OBSERVATION)
            result = ConnectorResult(
                spec.key[0], spec.key[1], 0, ConnectorState.IDLE, (f"status:{obs.status}",), spec.fallback_a, ZERO,
                False, spec.min_a, spec.max_a,
            )
        connectors.append(result)
        setpoints[spec.key] = result.setpoint_a

    zones = []
    for zi, zone_id in enumerate(zone_ids):
        lim = limits[zi]
        why_z = list(lim.reasons)
        parent = topology.zone_parent[zi]
        while parent >= 0:
            if any(limits[parent].limit_a[p] < lim.limit_a[p] - _EPS for p in range(3)):
                why_z.append(f"parent:{zone_ids[parent]}")
                break
            parent = topology.zone_parent[parent]
        zones.append(
            ZoneResult(
                zone_id, lim.limit_a, Phases(*used[zi * 3 : zi * 3 + 3]), Phases(*reserved[zi * 3 : zi * 3 + 3]),
                lim.degraded, tuple(why_z), lim.measured_a,
            )
        )

    new_state = AllocatorState(
        ranking=ranking,
        ranked_at=ranked_at,
        setpoints=setpoints,
        under_since=under_since,
        over_since=over_since,
    )
    return Allocation(snapshot.time, tuple(connectors), tuple(zones)), new_state
