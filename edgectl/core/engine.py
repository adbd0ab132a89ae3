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
6. output (edgectl.core.output): whole amps, each with the reasons that bound
   it. A connector whose station has drawn clearly more than its setpoint
   for longer than the EV reaction window (`not_respecting`) keeps its fair
   share in the accounting, but its setpoint is lowered by the excess, so
   that what it really draws fits its share and nobody else pays for it.

Pure and deterministic: iteration follows the topology's order and the
explicit ranking; nothing is read from a clock; state goes in and out.

Speed (docs/allocation.md, "Speed"): connectors are numbers into the
topology's flat columns (`Topology.flat`); per-connector work is a few list
reads and writes, and everything that is the same for many connectors (the
constraints a group of connectors loads, filler classes, reasons, loads) is
done once per group, class or distinct value.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import chain, compress, filterfalse, repeat
from operator import attrgetter, itemgetter, not_, or_

import numpy as np

from edgectl.core.fill import AT_MAX, FillClass, GroupFill, Pairs, hand_out, rising_of, water_fill
from edgectl.core.limits import zone_limits
from edgectl.core.output import Outcome, results
from edgectl.core.phases import Phases
from edgectl.core.ranking import rank
from edgectl.core.result import Allocation
from edgectl.core.site import SheddingPriority
from edgectl.core.snapshot import WANTING_STATUSES, ConnectorObservation, Snapshot
from edgectl.core.state import AllocatorParams, AllocatorState
from edgectl.core.topology import ConnectorKey, ConnectorSpec, Flat, Topology

_EPS = 1e-6
_Since = tuple[datetime | None, datetime | None, datetime | None]
_Caps = tuple[float, float, float]


_STATUS = attrgetter("status")
_CURRENT = attrgetter("current_a")
_ID_TAG = attrgetter("id_tag")
_ENERGY = attrgetter("energy_wh")
_CAR_MAX = attrgetter("car_max_a")
_ONLINE = attrgetter("online")
_CONNECTORS = attrgetter("connectors")
_NO_OBSERVATION = ConnectorObservation()
_NOTHING: dict[int, ConnectorObservation] = {}


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
    flat = topology.flat
    settings = topology.site.settings
    n = len(flat.keys)
    n_zones = len(topology.zone_ids)
    keys = flat.keys
    min_a = flat.min_a
    max_a = flat.max_a

    # --- observations in connector order (absent: Available), offline stations ---
    stations = list(map(snapshot.stations.get, flat.station_ids))
    offline: list[tuple[int, int]] = []  # (connector, fallback it is reserved at)
    try:
        all_online = all(map(_ONLINE, stations))  # an absent station (None) has no `online`
    except AttributeError:
        all_online = False
    if not all_online:
        dicts: list[Mapping[int, ConnectorObservation]] = []
        for st, members in zip(stations, flat.station_members, strict=True):
            if st is None or not st.online:
                dicts.append(_NOTHING)
                for i in members:
                    offline.append((i, state.setpoints.get(keys[i], 0) if flat.dc[i] else flat.fallback_a[i]))
            else:
                dicts.append(st.connectors)
    else:
        dicts = list(map(_CONNECTORS, stations))
    plain: list[dict[int, ConnectorObservation]] = [d if type(d) is dict else dict(d) for d in dicts]
    observations: list[ConnectorObservation] = list(
        map(
            dict.get,
            chain.from_iterable(map(repeat, plain, flat.station_sizes)),
            flat.connector_id,
            repeat(_NO_OBSERVATION),
        )
    )
    statuses = list(map(_STATUS, observations))
    want = list(map(WANTING_STATUSES.__contains__, statuses))
    seen_statuses = set(statuses)
    if "Preparing" in seen_statuses:
        # A transaction that started before the first Charging status wants current.
        for i, status in enumerate(statuses):
            if status == "Preparing" and observations[i].transaction_id is not None:
                want[i] = True
    wanting = list(compress(range(n), want))
    idle: dict[int, str] = {}  # connector -> OCPP status, when it is not Available
    if seen_statuses - WANTING_STATUSES - {"Available"}:
        idle = {i: st for i, st in enumerate(statuses) if not want[i] and st != "Available"}

    # --- EV current per dynamic zone (grid phases), each car at most its last setpoint ---
    last_setpoint = list(map(state.setpoints.get, keys))
    currents = list(map(_CURRENT, observations))
    ev_grid = _ev_current(flat, n_zones, currents, last_setpoint)

    limits = zone_limits(topology, snapshot, params, ev_grid)
    room0 = np.array([v for lim in limits for v in lim.limit_a])
    if offline:
        reserved_by_group = np.zeros(len(flat.group_constraints))
        for i, fallback in offline:
            reserved_by_group[flat.group[i]] += fallback
        room0 = room0 - flat.incidence @ reserved_by_group

    # --- candidates: VIP, highest current, ranking value ---
    tags = list(map(_ID_TAG, observations))
    vip_cards = topology.vip_cards
    vip_tag = {t: t is not None and t.upper() in vip_cards for t in set(tags)}
    vip = list(map(or_, flat.vip_station, map(vip_tag.__getitem__, tags)))
    hi_a: Sequence[int] = max_a
    car_limited: set[int] = set()
    car_max = list(map(_CAR_MAX, observations))
    if car_max.count(None) != n:
        limited = list(max_a)
        for i in wanting:
            car = car_max[i]
            if car is not None and car < max_a[i]:
                limited[i] = max(min_a[i], int(car))
                car_limited.add(i)
        hi_a = limited
    now = snapshot.time
    value: list[float]
    if settings.shedding_priority is SheddingPriority.DURATION:
        value = [0.0] * n
        for i in wanting:
            obs = observations[i]
            if obs.charging_s is not None:
                value[i] = obs.charging_s
            elif obs.started is not None:
                value[i] = max(0.0, (now - obs.started).total_seconds())
    else:
        value = list(map(_ENERGY, observations))

    # --- ranking, stations not respecting their setpoint, admission ---
    order, ranking, ranked_at = rank(flat, wanting, want, value, vip, state, now, settings)
    over_since, excess = _overdraws(topology, order, currents, last_setpoint, state, snapshot, params)
    under_since: dict[ConnectorKey, _Since] = {}
    suspended: list[tuple[int, int]] = []  # (connector, constraint where its minimum did not fit)
    if settings.consumption_optimisation:
        caps_of: dict[int, _Caps] = {}
        room = room0.tolist()
        admitted = _admit_optimised(
            topology.connectors, order, observations, room, suspended, caps_of, under_since, state, snapshot, params,
            steady,
        )  # fmt: skip
        outcome = _fill_capped(topology, room, admitted, vip, hi_a, car_limited, caps_of, excess)
    else:
        admitted, room0 = _admit(flat, order, room0, suspended)
        outcome = _fill_uncapped(flat, room0, admitted, vip, hi_a, car_limited, excess)

    # --- output ---
    return results(
        topology, snapshot, limits, offline, idle, outcome, suspended, ranking, ranked_at, under_since, over_since
    )


def _ev_current(
    flat: Flat, n_zones: int, currents: list[Phases | None], last_setpoint: list[int | None]
) -> list[Phases]:
    """Measured EV current per zone (grid phases) of the connectors below it.

    A car's report lags the zone meter; counted at no more than its last
    setpoint, a stale high report cannot inflate the budget (under-counting a
    car only makes the budget smaller). Sums run in connector order.
    """
    ev = [[0.0, 0.0, 0.0] for _ in range(n_zones)]
    shared = flat.shared_dynamic
    if shared is not None:
        zones, members = shared
        if len(members) == len(currents):
            rows = zip(currents, last_setpoint, flat.wiring, strict=True)
        else:
            pick = itemgetter(*members) if len(members) > 1 else lambda seq: (seq[members[0]],)
            rows = zip(pick(currents), pick(last_setpoint), pick(flat.wiring), strict=True)
        a0 = a1 = a2 = 0.0
        for current, cap, wiring in rows:
            if current is None:
                continue
            v0, v1, v2 = current
            if cap is not None:
                # `v if v < cap else cap`, as for any reading (a NaN counts as the cap)
                if not v0 < cap:
                    v0 = cap
                if not v1 < cap:
                    v1 = cap
                if not v2 < cap:
                    v2 = cap
            if wiring == 0:
                a0 += v0
                a1 += v1
                a2 += v2
            elif wiring == 1:
                a1 += v0
                a2 += v1
                a0 += v2
            elif wiring == 2:
                a2 += v0
                a0 += v1
                a1 += v2
            elif wiring == 3:
                a0 += v0
            elif wiring == 4:
                a1 += v0
            else:
                a2 += v0
        for zi in zones:
            ev[zi] = [a0, a1, a2]
    else:
        grid_of = ((0, 1, 2), (1, 2, 0), (2, 0, 1), (0,), (1,), (2,))
        for i, dyn in enumerate(flat.dynamic_path):
            current = currents[i]
            if dyn is None or current is None:
                continue
            cap = last_setpoint[i]
            for station_phase, grid_phase in enumerate(grid_of[flat.wiring[i]]):
                value = current[station_phase]
                if cap is not None and not value < cap:
                    value = cap
                for zi in dyn:
                    ev[zi][grid_phase] += value
    return [Phases(*v) for v in ev]


def _overdraws(
    topology: Topology,
    order: list[int],
    currents: list[Phases | None],
    last_setpoint: list[int | None],
    state: AllocatorState,
    snapshot: Snapshot,
    params: AllocatorParams,
) -> tuple[dict[ConnectorKey, datetime], dict[int, int]]:
    """Connectors drawing clearly more than their last setpoint: since when,
    and the whole amps of excess once past the EV reaction window."""
    over_since: dict[ConnectorKey, datetime] = {}
    excess: dict[int, int] = {}
    margin = params.overdraw_margin_a
    now = snapshot.time
    window_s = params.overdraw_window_s
    previous = state.over_since
    wiring = topology.flat.wiring
    keys = topology.flat.keys
    for i, current, last in zip(
        order, map(currents.__getitem__, order), map(last_setpoint.__getitem__, order), strict=True
    ):
        if current is None or last is None:
            continue
        limit = last + margin
        v0, v1, v2 = current
        if (v0 <= limit and v1 <= limit and v2 <= limit) or max(current) <= limit:
            continue  # the common case: it respects its setpoint
        if math.isnan(v0) or math.isnan(v1) or math.isnan(v2):  # a NaN in the report: the general rule
            spec = topology.connectors[i]
            over_at = _overdraw(spec, current, last, state, snapshot, params)
            if over_at is not None:
                over_since[spec.key], amps = over_at
                if amps > 0:
                    excess[i] = amps
            continue
        # Over its last setpoint on the grid phases it loads: every terminal of
        # a three-phase wiring, the first one of a single-phase wiring.
        over = (max(v0, v1, v2) if wiring[i] < 3 else v0) - last
        if over <= margin:
            continue
        key = keys[i]
        since = previous.get(key)
        if since is None:
            since, held_s = now, 0.0
        else:
            held_s = (now - since).total_seconds()
        over_since[key] = since
        if held_s >= window_s:
            amps = math.ceil(over)
            if amps > 0:
                excess[i] = amps
    return over_since, excess


def _admit(
    flat: Flat, order: list[int], room: np.ndarray, suspended: list[tuple[int, int]]
) -> tuple[list[int], np.ndarray]:
    """Each at its minimum, in rank order, where every constraint it loads has room.

    Only *tight* constraints, where the minimums of everyone who wants current
    do not all fit, can refuse anyone; those are checked one by one in rank
    order, the rest is accounted per group. Whole amps taken from a room keep
    it exact (no rounding), so the order of the subtractions does not matter.
    """
    group = flat.group
    n_groups = len(flat.group_constraints)
    demand = np.zeros(n_groups)
    counted = Counter(map(flat.base_class.__getitem__, order))
    for c, count in counted.items():
        lo, _hi, g = flat.class_info[c]
        demand[g] += lo * count
    tight = (flat.incidence @ demand) > room
    if not tight.any():
        return order, room - flat.incidence @ demand
    tight_ks = [tuple(k for k in ks if tight[k]) for ks in flat.group_constraints]
    live = room.tolist()
    min_a = flat.min_a
    refused: set[int] = set()
    for i in compress(order, map(tight_ks.__getitem__, map(group.__getitem__, order))):
        need = min_a[i]
        limit = need - _EPS
        ks = tight_ks[group[i]]
        for k in ks:
            if live[k] < limit:
                suspended.append((i, k))
                refused.add(i)
                demand[group[i]] -= need
                break
        else:
            for k in ks:
                live[k] -= need
    admitted = list(filterfalse(refused.__contains__, order)) if refused else order
    return admitted, room - flat.incidence @ demand


def _fill_uncapped(
    flat: Flat,
    room: np.ndarray,
    admitted: list[int],
    vip: list[bool],
    hi_a: Sequence[int],
    car_limited: set[int],
    excess: dict[int, int],
) -> Outcome:
    """VIPs first, then everyone else, each set water-filled together."""
    outcome = Outcome(admitted, vip, hi_a, car_limited, {}, [], [], excess)
    if not admitted:
        return outcome
    vips = list(compress(admitted, map(vip.__getitem__, admitted)))
    sets = [vips, list(compress(admitted, map(not_, map(vip.__getitem__, admitted))))] if vips else [admitted]
    for members in sets:
        if not members:
            continue
        class_of = list(map(flat.base_class.__getitem__, members))
        extra: dict[tuple[int, int, int], int] = {}
        if car_limited:
            for j, i in enumerate(members):
                if i in car_limited:
                    triple = (flat.min_a[i], hi_a[i], flat.group[i])
                    c = flat.class_id.get(triple)
                    if c is None:
                        c = extra.setdefault(triple, len(flat.class_info) + len(extra))
                    class_of[j] = c
        counted = Counter(class_of)  # in order of first member
        info = flat.class_info
        extra_info = {c: t for t, c in extra.items()}
        classes = [(*(info[c] if c < len(info) else extra_info[c]), count) for c, count in counted.items()]
        filled = GroupFill(room, flat.incidence, flat.group_constraints, classes)
        position = {c: j for j, c in enumerate(counted)}
        member_class = list(map(position.__getitem__, class_of))
        rising: list[list[int] | None] = [
            list(flat.group_constraints[g]) if b != AT_MAX and level < hi else None
            for (_lo, hi, g, _n), level, b in zip(classes, filled.level, filled.binding, strict=True)
        ]
        live = room.tolist()
        setpoints = hand_out(live, filled.level, rising, member_class)
        room[:] = live
        outcome.sets.append((members, classes, filled.level, filled.binding, member_class, setpoints))
    return outcome


def _fill_capped(
    topology: Topology,
    room: list[float],
    admitted: list[int],
    vip: list[bool],
    hi_a: Sequence[int],
    car_limited: set[int],
    caps_of: dict[int, _Caps],
    excess: dict[int, int],
) -> Outcome:
    """Filling under consumption optimisation: members' pairs follow their caps."""
    outcome = Outcome(admitted, vip, hi_a, car_limited, caps_of, [], [], excess)
    specs = topology.connectors
    for members in ([i for i in admitted if vip[i]], [i for i in admitted if not vip[i]]):
        if not members:
            continue
        class_ids: dict[tuple[int, int, Pairs], int] = {}
        classes: list[FillClass] = []
        member_class: list[int] = []
        for i in members:
            key = _capped_member(specs[i], hi_a[i], caps_of[i])
            c = class_ids.get(key)
            if c is None:
                c = class_ids[key] = len(classes)
                classes.append(FillClass(*key))
            classes[c].n += 1
            member_class.append(c)
        water_fill(room, classes)
        levels = hand_out(room, [cls.level for cls in classes], rising_of(classes), member_class)
        outcome.capped.append((members, [classes[c].binding for c in member_class], levels))
    return outcome


def _admit_optimised(
    specs: tuple[ConnectorSpec, ...],
    order: list[int],
    obs_of: list[ConnectorObservation],
    room: list[float],
    suspended: list[tuple[int, int]],
    caps_of: dict[int, _Caps],
    under_since: dict[ConnectorKey, _Since],
    state: AllocatorState,
    snapshot: Snapshot,
    params: AllocatorParams,
    steady: bool,
) -> list[int]:
    """Admission when consumption optimisation accounts connectors at their draw."""
    admitted: list[int] = []
    for i in order:
        spec = specs[i]
        obs = obs_of[i]
        caps, since = _draw_caps(spec, obs, state, snapshot, params, steady)
        under_since[spec.key] = since
        lo = spec.min_a
        accounted = (min(lo, caps[0]), min(lo, caps[1]), min(lo, caps[2]))
        failed = _first_full(spec, accounted, room)
        if failed is not None:
            suspended.append((i, failed))
            continue
        for p, ks in spec.phase_constraints:
            for k in ks:
                room[k] -= accounted[p]
        caps_of[i] = caps
        admitted.append(i)
    return admitted


def _draw_caps(
    spec: ConnectorSpec,
    obs: ConnectorObservation,
    state: AllocatorState,
    snapshot: Snapshot,
    params: AllocatorParams,
    steady: bool,
) -> tuple[_Caps, _Since]:
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
    spec: ConnectorSpec, current: Phases, last: int, state: AllocatorState, snapshot: Snapshot, params: AllocatorParams
) -> tuple[datetime, int] | None:
    """(since when, whole amps of excess once past the window) for a connector
    drawing clearly more than its last setpoint; None while it respects it."""
    grid = spec.to_grid(current)
    over = max(grid[p] - last for p in range(3) if spec.used[p])
    if over <= params.overdraw_margin_a:
        return None
    since = state.over_since.get(spec.key, snapshot.time)
    if (snapshot.time - since).total_seconds() < params.overdraw_window_s:
        return since, 0
    return since, math.ceil(over)


def _first_full(spec: ConnectorSpec, accounted: tuple[float, ...], room: list[float]) -> int | None:
    for p, ks in spec.phase_constraints:
        need = accounted[p]
        for k in ks:
            if room[k] < need - _EPS:
                return k
    return None


def _capped_member(spec: ConnectorSpec, hi: int, caps: _Caps) -> tuple[int, int, Pairs]:
    lo = spec.min_a
    capped = [c for p, c in enumerate(caps) if spec.used[p]]
    if capped and all(c != math.inf for c in capped):
        # Every phase it loads is capped: keep the setpoint near the draw so a
        # car that suddenly wants more overshoots by a margin, not by its share.
        hi = max(lo, min(hi, int(max(capped) + 2.0)))
    pairs: list[tuple[int, int]] = []
    for p, ks in spec.phase_constraints:
        cap = caps[p]
        if cap <= lo:
            continue  # its load on p stays at the draw: no constraint there
        ph = hi if cap == math.inf else max(lo, min(hi, int(cap)))
        if ph > lo:
            pairs.extend((k, ph) for k in ks)
    return lo, hi, tuple(pairs)
