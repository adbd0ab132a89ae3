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
topology's flat columns (`Topology.flat`). The snapshot is read once into
lists and arrays with C-level map/attrgetter (or one transposition of the
observation tuples while the collector is held off); the per-connector steps
(dynamic-zone EV current, overdraws, admission runs, class counting,
results) are numpy operations over those columns, and everything that is
the same for many connectors (the constraints a group loads, filler classes,
reasons, loads) is done once per group, class or distinct value. Every
float sum that must be bit-for-bit the old engine's is either on whole amps
(exact) or an in-order cumulative sum.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import chain, compress, repeat
from operator import attrgetter

import numpy as np

from edgectl.core.fill import AT_MAX, FillClass, Pairs, extra_amp_groups, group_fill, hand_out, rising_of, water_fill
from edgectl.core.limits import zone_limits
from edgectl.core.output import Outcome, results
from edgectl.core.phases import Phases
from edgectl.core.ranking import rank
from edgectl.core.result import Allocation
from edgectl.core.site import SheddingPriority
from edgectl.core.snapshot import WANTING_STATUSES, ConnectorObservation, Snapshot, StationObservation
from edgectl.core.state import AllocatorParams, AllocatorState
from edgectl.core.topology import NOT_IN, ConnectorKey, ConnectorSpec, Flat, Topology

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
    seen_stations = snapshot.stations
    if type(seen_stations) is dict and tuple(seen_stations) == flat.station_ids:
        stations: list[StationObservation | None] = list(seen_stations.values())  # every station, in site order
    else:
        stations = list(map(seen_stations.get, flat.station_ids))
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
    plain: list[dict[int, ConnectorObservation]]
    if set(map(type, dicts)) <= {dict}:
        plain = dicts  # type: ignore[assignment]  # plain dicts already
    else:
        plain = [d if type(d) is dict else dict(d) for d in dicts]
    observations: list[ConnectorObservation]
    if tuple(chain.from_iterable(plain)) == flat.connector_id:
        # Every station reports exactly its connectors, in site order (the usual case).
        observations = list(chain.from_iterable(map(dict.values, plain)))
    else:
        observations = list(
            map(
                dict.get,
                chain.from_iterable(map(repeat, plain, flat.station_sizes)),
                flat.connector_id,
                repeat(_NO_OBSERVATION),
            )
        )
    statuses, tags, currents, car_max = _columns(observations)
    seen_statuses = set(statuses)
    if seen_statuses <= WANTING_STATUSES:
        want = [True] * n  # everyone wants current
        wanting = list(range(n))
    else:
        want = list(map(WANTING_STATUSES.__contains__, statuses))
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
    last_setpoint, own_setpoints = _last_setpoints(state.setpoints, keys)
    draws = _Draws(currents, last_setpoint)
    ev_grid = _ev_current(flat, n_zones, currents, last_setpoint, draws)

    limits = zone_limits(topology, snapshot, params, ev_grid)
    room0 = np.array([v for lim in limits for v in lim.limit_a])
    if offline:
        reserved_by_group = np.zeros(len(flat.group_constraints))
        for i, fallback in offline:
            reserved_by_group[flat.group[i]] += fallback
        room0 = room0 - flat.incidence @ reserved_by_group

    # --- candidates: VIP, highest current, ranking value ---
    vip_cards = topology.vip_cards
    vip_tag = {t: t is not None and t.upper() in vip_cards for t in set(tags)}
    vip_np = np.fromiter(map(vip_tag.__getitem__, tags), dtype=bool, count=n) | flat.vip_station_np
    hi_a: Sequence[int] = max_a
    car_limited: set[int] = set()
    if car_max.count(None) != n:
        limited = list(max_a)
        for i in wanting:
            car = car_max[i]
            if car is not None and car < max_a[i]:
                limited[i] = max(min_a[i], int(car))
                car_limited.add(i)
        hi_a = limited
    now = snapshot.time

    def shedding_values() -> list[float]:
        # Read only when everyone is ranked again (rotation due, an arrival).
        if settings.shedding_priority is SheddingPriority.DURATION:
            value = [0.0] * n
            for i in wanting:
                obs = observations[i]
                if obs.charging_s is not None:
                    value[i] = obs.charging_at(now)  # type: ignore[assignment]
                elif obs.started is not None:
                    value[i] = max(0.0, (now - obs.started).total_seconds())
            return value
        return list(map(_ENERGY, observations))

    # --- ranking, stations not respecting their setpoint, admission ---
    order, order_np, ranking, ranked_at = rank(flat, wanting, want, shedding_values, vip_np, state, now, settings)
    over_since, excess = _overdraws(topology, order, order_np, currents, last_setpoint, draws, state, snapshot, params)
    under_since: dict[ConnectorKey, _Since] = {}
    suspended: tuple[list[int], list[int]] = ([], [])  # connectors, and the constraint where its minimum did not fit
    if settings.consumption_optimisation:
        caps_of: dict[int, _Caps] = {}
        room = room0.tolist()
        admitted = _admit_optimised(
            topology.connectors, order, observations, room, suspended, caps_of, under_since, state, snapshot, params,
            steady,
        )  # fmt: skip
        outcome = _fill_capped(topology, room, admitted, vip_np.tolist(), hi_a, car_limited, caps_of, excess)
    else:
        admitted_np, room0 = _admit(flat, order_np, room0, suspended)
        outcome = _fill_uncapped(flat, room0, admitted_np, vip_np, hi_a, car_limited, excess)

    # --- output ---
    previous = None if own_setpoints is None else (own_setpoints, draws.last)
    return results(
        topology, snapshot, limits, offline, idle, outcome, suspended, ranking, ranked_at, under_since, over_since,
        previous,
    )  # fmt: skip


def _columns(
    observations: list[ConnectorObservation],
) -> tuple[Sequence[str], Sequence[str | None], Sequence[Phases | None], Sequence[float | None]]:
    """Status, id tag, current and car maximum of every observation.

    With the cyclic collector held off (the daemon holds it during its
    plan-and-dispatch stretch, edgectl.gcpolicy.CollectorHold), one
    transposition of the tuples, zip(*observations), reads them in one pass.
    With it running, one C-level attrgetter pass per field: the transposition
    keeps one iterator per connector alive, which makes the young-generation
    collection run about twice as often during the cycle and costs more
    than it saves. Same columns either way."""
    if not gc.isenabled() and observations and type(observations[0]) is ConnectorObservation:
        try:
            columns = list(zip(*observations, strict=True))
        except ValueError:  # not all of them ConnectorObservations (differing lengths)
            pass
        else:
            if len(columns) == _FIELDS:
                return columns[_STATUS_AT], columns[_ID_TAG_AT], columns[_CURRENT_AT], columns[_CAR_MAX_AT]
    return (
        list(map(_STATUS, observations)),
        list(map(_ID_TAG, observations)),
        list(map(_CURRENT, observations)),
        list(map(_CAR_MAX, observations)),
    )


_FIELDS = len(ConnectorObservation._fields)
_STATUS_AT, _ID_TAG_AT, _CURRENT_AT, _CAR_MAX_AT = map(
    ConnectorObservation._fields.index, ("status", "id_tag", "current_a", "car_max_a")
)


def _last_setpoints(
    setpoints: Mapping[ConnectorKey, int], keys: tuple[ConnectorKey, ...]
) -> tuple[list[int | None], dict[ConnectorKey, int] | None]:
    """Each connector's last setpoint (None: none yet), and the mapping itself
    when it is the engine's own kind: a dict of exactly the site's keys in
    site order (the same tuple objects: a cheap check) and int values. Its
    values are then read as they are, and the next mapping is a copy of it
    with the setpoints that changed (no key hashed for the others)."""
    if type(setpoints) is dict and len(setpoints) == len(keys) and tuple(setpoints) == keys:
        values = list(setpoints.values())
        return values, (setpoints if set(map(type, values)) <= {int} else None)
    return list(map(setpoints.get, keys)), None


class _Draws:
    """The cars' reports and last setpoints as arrays (NaN where absent)."""

    __slots__ = ("current", "has_current", "has_last", "last", "missing")

    def __init__(self, currents: Sequence[Phases | None], last_setpoint: list[int | None]) -> None:
        n = len(currents)
        self.missing = 0
        self.has_current = np.ones(n, dtype=bool)
        try:  # the usual case: every car reports (a None stops the chain)
            flat = np.fromiter(chain.from_iterable(currents), dtype=np.float64, count=3 * n)  # type: ignore[arg-type]
        except TypeError:
            absent = [i for i, c in enumerate(currents) if c is None]
            self.missing = len(absent)
            self.has_current[absent] = False
            rows = [_NAN3 if c is None else c for c in currents]
            flat = np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=3 * n)
        self.current = flat.reshape(n, 3)
        self.last = np.fromiter(last_setpoint, dtype=np.float64, count=n)  # None -> NaN
        self.has_last = ~np.isnan(self.last)


_NAN3 = (math.nan, math.nan, math.nan)


def _ev_current(
    flat: Flat, n_zones: int, currents: Sequence[Phases | None], last_setpoint: list[int | None], draws: _Draws
) -> list[Phases]:
    """Measured EV current per zone (grid phases) of the connectors below it.

    A car's report lags the zone meter; counted at no more than its last
    setpoint, a stale high report cannot inflate the budget (under-counting a
    car only makes the budget smaller). For the same reason a NaN phase
    counts 0 A, as an absent report: read as its last setpoint it would
    shrink the estimated non-EV load and enlarge the budget. Sums run in
    connector order.
    """
    ev = [[0.0, 0.0, 0.0] for _ in range(n_zones)]
    shared = flat.shared_dynamic
    if shared is not None and flat.ev_take is not None:
        # The sums of a loop over the connectors in order, with numpy: np.cumsum
        # adds one term after the other, from a first row of 0.0 as such a loop
        # starts; rows that add nothing add 0.0, which leaves a sum that started
        # at +0.0 unchanged to the bit.
        zones, members = shared
        sel = flat.ev_members
        m = len(members)
        buf = np.zeros(3 * m + 1)  # the capped reports, 3 per connector, then one 0.0
        dv = buf[: 3 * m].reshape(m, 3)
        if sel is None:
            current, last = draws.current, draws.last
        else:
            current, last = draws.current[sel], draws.last[sel]
        # `v if v < cap else cap`, no cap (NaN) keeping v; a NaN v stays NaN.
        np.minimum(current, np.fmin(last, math.inf)[:, None], out=dv)
        if draws.missing:
            dv[np.isnan(dv)] = 0.0
        total = np.cumsum(buf[flat.ev_take], axis=0)[-1].tolist()
        if math.isnan(total[0] + total[1] + total[2]):  # a NaN on a loaded phase: it counts 0 A
            dv[np.isnan(dv)] = 0.0
            total = np.cumsum(buf[flat.ev_take], axis=0)[-1].tolist()
        for zi in zones:
            ev[zi] = list(total)
    else:
        grid_of = ((0, 1, 2), (1, 2, 0), (2, 0, 1), (0,), (1,), (2,))
        for i, dyn in enumerate(flat.dynamic_path):
            current_i = currents[i]
            if dyn is None or current_i is None:
                continue
            cap = last_setpoint[i]
            for station_phase, grid_phase in enumerate(grid_of[flat.wiring[i]]):
                value = current_i[station_phase]
                if math.isnan(value):  # a NaN phase counts 0 A
                    value = 0.0
                if cap is not None and not value < cap:
                    value = cap
                for zi in dyn:
                    ev[zi][grid_phase] += value
    return [Phases(*v) for v in ev]


def _overdraws(
    topology: Topology,
    order: list[int],
    order_np: np.ndarray,
    currents: Sequence[Phases | None],
    last_setpoint: list[int | None],
    draws: _Draws,
    state: AllocatorState,
    snapshot: Snapshot,
    params: AllocatorParams,
) -> tuple[dict[ConnectorKey, datetime], dict[int, int]]:
    """Connectors drawing clearly more than their last setpoint: since when,
    and the whole amps of excess once past the EV reaction window.

    Numpy finds them (in rank order); a report with a NaN in it takes the
    connector-by-connector rules of `_overdraws_one_by_one`."""
    if not order:
        return {}, {}
    margin = params.overdraw_margin_a
    flat = topology.flat
    rank_of = np.full(len(flat.keys), -1, dtype=np.intp)
    rank_of[order_np] = np.arange(len(order_np))
    cur = draws.current
    peak = np.maximum(np.maximum(cur[:, 0], cur[:, 1]), cur[:, 2])  # NaN if the report has one
    maybe = np.flatnonzero(
        draws.has_current & draws.has_last & (rank_of >= 0) & ~(peak <= draws.last + margin)
    )  # NaN rows stay in
    if not len(maybe):
        return {}, {}
    if np.isnan(peak[maybe]).any():
        return _overdraws_one_by_one(topology, order, currents, last_setpoint, state, snapshot, params)
    # Over its last setpoint on the grid phases it loads: every terminal of
    # a three-phase wiring, the first one of a single-phase wiring.
    over = np.where(flat.wiring_np[maybe] < 3, peak[maybe], draws.current[maybe, 0]) - draws.last[maybe]
    hit = over > margin
    o = maybe[hit]
    over = over[hit]
    if not len(o):
        return {}, {}
    # In rank order (as `order`): place by rank, read back the places taken.
    taken = np.zeros(len(order_np), dtype=bool)
    taken[rank_of[o]] = True
    by_rank = np.empty(len(order_np))
    by_rank[rank_of[o]] = over
    numbers = order_np[taken].tolist()
    overs = by_rank[taken].tolist()
    hit_keys = list(map(flat.keys.__getitem__, numbers))
    now = snapshot.time
    previous = state.over_since
    if not previous:
        sinces = [now] * len(hit_keys)
        over_since = dict.fromkeys(hit_keys, now)
    elif type(previous) is dict and len(previous) == len(hit_keys) and tuple(previous) == tuple(hit_keys):
        sinces = list(previous.values())  # the same connectors as last cycle (no key hashed)
        over_since = previous.copy()
    else:
        sinces = list(map(previous.get, hit_keys, repeat(now)))
        over_since = dict(zip(hit_keys, sinces, strict=True))
    excess: dict[int, int] = {}
    window_s = params.overdraw_window_s
    # A connector seen over only now has held it 0 s.
    if window_s <= 0.0:
        check: Sequence[int] = range(len(hit_keys))
    else:
        check = [j for j, since in enumerate(sinces) if since is not now] if previous else ()
    for j in check:
        if (now - sinces[j]).total_seconds() >= window_s:
            amps = math.ceil(overs[j])
            if amps > 0:
                excess[numbers[j]] = amps
    return over_since, excess


def _overdraws_one_by_one(
    topology: Topology,
    order: list[int],
    currents: Sequence[Phases | None],
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
        if v0 <= limit and v1 <= limit and v2 <= limit:
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
    flat: Flat, o: np.ndarray, room: np.ndarray, suspended: tuple[list[int], list[int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Each at its minimum, in rank order, where every constraint it loads has room.

    `o` is the rank order (connector numbers); returns the admitted, in that
    order, and the rooms left. Refused ones go to `suspended` (connectors,
    and the first of their constraints, in their own order, found full).

    Only *tight* constraints, where the minimums of everyone who wants current
    do not all fit, can refuse anyone; the rest is accounted per group. Whole
    amps taken from a room keep it exact (no rounding; it stays >= -1e-6), so
    the room a candidate finds is exactly the room minus the sum of the
    minimums admitted before it: numpy checks whole runs at once (a
    cumulative sum per tight constraint, the same comparison as one by one)
    up to the first candidate refused. From there candidates go one by one
    until 64 in a row are admitted; candidates with the same minimum and
    group fare alike: one refused stays refused (rooms only shrink) and names
    the same constraint until someone is admitted, so a long refused stretch
    costs a dictionary look-up per candidate; and after 32 refusals in a row
    one numpy check (`_refused_tail`) refuses at once everyone left when no
    one left fits.
    """
    g_o = flat.group_np[o]
    demand = np.bincount(g_o, weights=flat.min_np[o], minlength=len(flat.group_constraints))  # whole amps: exact
    tight = (flat.incidence @ demand) > room
    if not tight.any():
        return o, room - flat.incidence @ demand
    tight_k = np.flatnonzero(tight)
    inc_t = flat.incidence[tight_k]
    loads_tight: np.ndarray = np.asarray(inc_t.any(axis=0))
    sel = loads_tight[g_o]  # candidates loading a tight constraint
    cand = o[sel]
    m = len(cand)
    cand_g = g_o[sel]
    need = flat.min_np[cand].astype(np.float64)
    limit = need - _EPS
    loads = inc_t[:, cand_g] > 0.0  # (tight constraints, candidates)
    amps = np.where(loads, need, 0.0)
    live = room[tight_k]
    min_a = flat.min_a
    tight_kl = tight_k.tolist()
    sus_i, sus_k = suspended
    start = len(sus_i)
    # For one by one, made once: the candidates as lists, and each group's
    # tight constraints (rows) in the group's own order.
    lists: tuple[list[int], list[int], list[int], list[float], list[list[int]]] | None = None
    pos = 0
    window = 256
    while pos < m:
        # A run admitted in one go, up to the first candidate that finds no room.
        end = min(m, pos + window)
        run = amps[:, pos:end]
        before = live[:, None] - (np.cumsum(run, axis=1) - run)
        fails = (loads[:, pos:end] & (before < limit[None, pos:end])).any(axis=0)
        first = int(fails.argmax()) if fails.any() else end - pos
        if first:
            live = live - run[:, :first].sum(axis=1)
            pos += first
        if pos >= end:
            window *= 4
            continue
        # Then one by one, back to runs after 64 admitted in a row.
        if lists is None:
            kp = flat.kpos[tight_k]  # (tight constraints, groups): position in the group's list
            by_pos = np.argsort(kp, axis=0, kind="stable").T.tolist()
            rows_of = [r[:c] for r, c in zip(by_pos, (kp < NOT_IN).sum(axis=0).tolist(), strict=True)]
            # Only from here on (pos only grows); the places before stay unread.
            pad = [0] * pos
            rest = cand[pos:]
            lists = (
                pad + rest.tolist(),
                pad + flat.admit_class_np[rest].tolist(),
                pad + cand_g[pos:].tolist(),
                [0.0] * pos + limit[pos:].tolist(),
                rows_of,
            )
        cand_l, cls_l, cand_gl, limit_l, rows_of = lists
        live_l = live.tolist()
        why_of: dict[int, int] = {}  # (min, group) class -> the full constraint it meets, while no one is admitted
        add_i = sus_i.append
        add_k = sus_k.append
        known = why_of.get
        streak = 0
        refused = 0  # in a row, since the last admission
        resume = m
        for j in range(pos, m):
            k = known(cls_l[j])
            if k is None:
                lim = limit_l[j]
                rows = rows_of[cand_gl[j]]
                for r in rows:
                    if live_l[r] < lim:
                        k = why_of[cls_l[j]] = tight_kl[r]
                        break
                else:
                    need_a = min_a[cand_l[j]]
                    for r in rows:
                        live_l[r] -= need_a
                    why_of.clear()
                    streak += 1
                    refused = 0
                    if streak == 64:
                        resume = j + 1
                        break
                    continue
            add_i(cand_l[j])
            add_k(k)
            streak = 0
            refused += 1
            if refused == _TAIL_CHECK and m - j > _TAIL_CHECK:
                tail = _refused_tail(j + 1, live_l, loads, limit, kp, cand_g, tight_k)
                if tail is not None:
                    sus_i.extend(cand_l[j + 1 :])
                    sus_k.extend(tail)
                    break
        pos = resume
        live = np.array(live_l)
        window = 256
    if len(sus_i) == start:
        return o, room - flat.incidence @ demand
    gone = np.array(sus_i[start:], dtype=np.intp)
    demand -= np.bincount(flat.group_np[gone], weights=flat.min_np[gone], minlength=len(demand))
    keep = np.ones(len(flat.keys), dtype=bool)
    keep[gone] = False
    return o[keep[o]], room - flat.incidence @ demand


_TAIL_CHECK = 32  # refusals in a row before checking whether everyone left is refused


def _refused_tail(
    start: int,
    live_l: list[float],
    loads: np.ndarray,
    limit: np.ndarray,
    kp: np.ndarray,
    cand_g: np.ndarray,
    tight_k: np.ndarray,
) -> list[int] | None:
    """When no candidate from `start` on finds room (rooms only shrink, so
    none ever will): for each, the first of its group's tight constraints,
    in the group's own order, found full, as the one-by-one walk names it
    (nobody admitted, the rooms stay as they are). None if someone fits."""
    live = np.array(live_l)
    full = loads[:, start:] & (live[:, None] < limit[None, start:])  # (tight constraints, candidates)
    if not full.any(axis=0).all():
        return None
    key = np.where(full, kp[:, cand_g[start:]], NOT_IN + 1)
    tail: list[int] = tight_k[key.argmin(axis=0)].tolist()
    return tail


def _fill_uncapped(
    flat: Flat,
    room: np.ndarray,
    admitted: np.ndarray,
    vip_np: np.ndarray,
    hi_a: Sequence[int],
    car_limited: set[int],
    excess: dict[int, int],
) -> Outcome:
    """VIPs first, then everyone else, each set water-filled together.

    Members are counted per group and (min, hi) entry (`Flat.cell_np`); a
    group freezes at one level (`fill.group_fill`), so each member's setpoint
    is clamp(level of its group, min, hi). Members, bindings and setpoints
    stay arrays (rank order)."""
    outcome = Outcome(admitted, vip_np, hi_a, car_limited, {}, [], [], excess)
    if not len(admitted):
        return outcome
    is_vip = vip_np[admitted]
    sets = [admitted[is_vip], admitted[~is_vip]] if is_vip.any() else [admitted]
    n_groups = len(flat.group_constraints)
    n_entries = len(flat.entry_lo_np)
    for members in sets:
        if not len(members):
            continue
        g_m = flat.group_np[members]
        lo_m = flat.min_np[members]
        hi_m = flat.max_np[members]
        cell_m = flat.cell_np[members]
        if car_limited:
            for j in [j for j, i in enumerate(members.tolist()) if i in car_limited]:
                i = int(members[j])
                hi_m[j] = hi_a[i]
                cell_m[j] = flat.group[i] * n_entries + flat.entry_of[(flat.min_a[i], hi_a[i])]
        table = np.bincount(cell_m, minlength=n_groups * n_entries).reshape(n_groups, n_entries).astype(np.float64)

        def first_touch(g_m: np.ndarray = g_m, lo_m: np.ndarray = lo_m, hi_m: np.ndarray = hi_m) -> np.ndarray:
            # Per group: position of its first member whose load rises.
            first = np.full(n_groups, 1 << 20, dtype=np.int64)
            pos = np.flatnonzero(hi_m > lo_m)
            first[g_m[pos][::-1]] = pos[::-1]
            return first

        level_g, binding_g = group_fill(
            room, flat.incidence, flat.kpos_key, flat.ramp, flat.entry_lo_np, flat.entry_hi_np, table, first_touch
        )
        t_m = level_g[g_m]
        setpoints = np.minimum(hi_m, np.maximum(lo_m, t_m))
        bound = (hi_m > t_m) & (hi_m > lo_m)
        binding_m = np.where(bound, binding_g[g_m], AT_MAX)
        # The +1 A hand-out: members bound below their hi, in rank order; a
        # group that loads a constraint already short of 1 A is left out.
        rising = bound & (setpoints < hi_m)
        if rising.any():
            blocked = (flat.incidence.T @ (room < 1 - _EPS)) > 0.0  # per group
            positions = np.flatnonzero(rising & ~blocked[g_m])
            if len(positions):
                live_room = room.tolist()
                lucky = extra_amp_groups(live_room, positions.tolist(), g_m[positions].tolist(), flat.group_constraints)
                if lucky:
                    setpoints[lucky] += 1
                    room[:] = live_room
        outcome.sets.append((members, binding_m, hi_m, setpoints))
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
    suspended: tuple[list[int], list[int]],
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
            suspended[0].append(i)
            suspended[1].append(failed)
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
    drawing clearly more than its last setpoint; None while it respects it.

    A NaN on a grid phase it loads is unknown, read on the safe side (as a
    NaN report is elsewhere: never less current than a number would take):
    it cannot show that the connector respects its setpoint, so the window
    runs, and past it no excess can be trusted: it is cut by its whole
    maximum (suspended). Its share stays in the accounting, so no other
    connector gets more either."""
    grid = spec.to_grid(current)
    overs = [grid[p] - last for p in range(3) if spec.used[p]]
    unknown = any(map(math.isnan, overs))
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
