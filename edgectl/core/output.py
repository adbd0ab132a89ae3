"""Step 6 of the cycle: one `ConnectorResult` per connector, one `ZoneResult`
per zone, and the state carried to the next cycle.

Reasons (`limited_by`, vocabulary in edgectl.core.result) and loads take few
distinct values per cycle, so each distinct one is built once and shared
(they are immutable). A zone's `used` adds, over its subtree, the share each
admitted connector is accounted at (before a `not_respecting` cut).

Results are built in bulk: every field is a column by connector number
(setpoints as ints, state, reasons and loads as indexes into small tables of
distinct values, computed with numpy), and the `ConnectorResult`s come out
of one C-level map over the zipped columns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import repeat
from typing import NamedTuple, TypeVar

import numpy as np

from edgectl.core.fill import AT_MAX
from edgectl.core.limits import ZoneLimit
from edgectl.core.phases import PHASE_NAMES, ZERO, Phases
from edgectl.core.result import Allocation, ConnectorResult, ConnectorState, ZoneResult
from edgectl.core.snapshot import Snapshot
from edgectl.core.state import AllocatorState
from edgectl.core.topology import ConnectorKey, Topology

_EPS = 1e-6
_CHARGING = ConnectorState.CHARGING
_SUSPENDED = ConnectorState.SUSPENDED
_Since = tuple[datetime | None, datetime | None, datetime | None]
_T = TypeVar("_T")

# `ConnectorResult.state` by index (the state column of `results`).
_STATES = (ConnectorState.IDLE, ConnectorState.CHARGING, ConnectorState.SUSPENDED, ConnectorState.OFFLINE)
_IDLE_I, _CHARGING_I, _SUSPENDED_I, _OFFLINE_I = range(4)
_STATES_NP = np.array(_STATES, dtype=object)


class Outcome(NamedTuple):
    """What admission and filling decided, by connector number."""

    admitted: Sequence[int] | np.ndarray  # in rank order
    vip: list[bool] | np.ndarray  # an array when `sets` are used, a list with `capped`
    hi_a: Sequence[int]  # highest current: connector max, or the car's when it takes less
    car_limited: set[int]
    caps: dict[int, tuple[float, float, float]]  # consumption optimisation (empty: off)
    # Uncapped fills, VIPs first: (members in rank order, and of each: the
    # constraint that bound it (AT_MAX: its own hi), its hi, its setpoint), int arrays.
    sets: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    # Capped fills: (members in rank order, binding of each, setpoint of each).
    capped: list[tuple[list[int], list[int], list[int]]]
    excess: dict[int, int]  # whole amps its station draws over its setpoint


def results(
    topology: Topology,
    snapshot: Snapshot,
    limits: list[ZoneLimit],
    offline: list[tuple[int, int]],
    idle: dict[int, str],
    outcome: Outcome,
    suspended: tuple[list[int], list[int]],
    ranking: tuple[ConnectorKey, ...],
    ranked_at: datetime | None,
    under_since: dict[ConnectorKey, _Since],
    over_since: dict[ConnectorKey, datetime],
    previous: tuple[dict[ConnectorKey, int], np.ndarray] | None = None,
) -> tuple[Allocation, AllocatorState]:
    """`previous`: the last setpoints when they are a dict of exactly the site's
    keys in site order with int values, and the same as a float array."""
    flat = topology.flat
    zone_ids = topology.zone_ids
    n_zones = len(zone_ids)
    keys = flat.keys
    group = flat.group
    group_ks = flat.group_constraints
    group_mask = flat.group_mask
    fallback_a = flat.fallback_a
    min_a = flat.min_a
    why_cache: dict[int, tuple[str, ...]] = {}

    def why_zone(k: int) -> tuple[str, ...]:
        why = why_cache.get(k)
        if why is None:
            zi, p = divmod(k, 3)
            own = tuple(r for r in limits[zi].reasons if r != "max_current")
            why = why_cache[k] = (f"zone:{zone_ids[zi]}:{PHASE_NAMES[p]}", *own)
        return why

    loads: dict[int, Phases] = {}

    def load_of(mask: int, amps: int) -> Phases:
        # What `amps` on every grid phase of `mask` weighs, as ConnectorSpec.load.
        key = amps * 8 + mask
        load = loads.get(key)
        if load is None:
            load = loads[key] = Phases(amps if mask & 1 else 0.0, amps if mask & 2 else 0.0, amps if mask & 4 else 0.0)
        return load

    n = len(keys)
    # Columns by connector number, built in bulk: per connector a code into a
    # table of distinct states, reasons and loads (default: idle Available).
    setpoint_np = np.zeros(n, dtype=np.int64)
    state_np = np.zeros(n, dtype=np.intp)  # index into _STATES
    why_np = np.zeros(n, dtype=np.intp)  # index into why_table
    load_np = np.zeros(n, dtype=np.intp)  # index into load_table
    vip_np = np.zeros(n, dtype=bool)
    why_table: list[tuple[str, ...]] = [("status:Available",)]
    load_table: list[Phases] = [ZERO]
    reserved = [0.0] * (n_zones * 3)
    fallback_col: Sequence[int] = fallback_a
    if offline:
        fallback_col = list(fallback_a)  # a DC station is reserved at its last setpoint
        by_group: dict[int, int] = {}
        why_np[[i for i, _f in offline]] = len(why_table)
        why_table.append(("offline",))
        for i, fallback in offline:
            g = group[i]
            by_group[g] = by_group.get(g, 0) + fallback
            setpoint_np[i] = fallback
            fallback_col[i] = fallback
            state_np[i] = _OFFLINE_I
            load_np[i] = len(load_table)
            load_table.append(load_of(group_mask[g], fallback))
        for g, amps in by_group.items():
            for k in group_ks[g]:
                reserved[k] += amps

    if idle:
        status_why: dict[str, int] = {}
        for i, status in idle.items():
            if status != "Available":
                w = status_why.get(status)
                if w is None:
                    w = status_why[status] = len(why_table)
                    why_table.append((f"status:{status}",))
                why_np[i] = w
                state_np[i] = _IDLE_I

    used = [0.0] * (n_zones * 3)
    vip = outcome.vip
    vip_all = vip if isinstance(vip, np.ndarray) else np.fromiter(vip, dtype=bool, count=n)
    excess = outcome.excess
    if outcome.sets:
        if len(outcome.sets) == 1:
            mem, b_m, hi_m, sp = outcome.sets[0]
        else:
            mem, b_m, hi_m, sp = (np.concatenate(column) for column in zip(*outcome.sets, strict=True))
        g_m = flat.group_np[mem]
        used_by_group = np.bincount(g_m, weights=sp, minlength=len(group_ks))  # whole amps: exact
        at_hi = sp >= hi_m
        if outcome.car_limited:
            car_np = np.zeros(n, dtype=bool)
            car_np[list(outcome.car_limited)] = True
            at_hi &= car_np[mem]
        else:
            at_hi[:] = False
        # 0: bound by a zone, 1: car_max, 2: connector_max, 3: none.
        code = np.where(b_m != AT_MAX, 0, np.where(at_hi, 1, np.where(sp >= flat.max_np[mem], 2, 3)))
        is_vip = vip_all[mem]
        wkey = ((b_m + 1) * 4 + code) * 2 + is_vip  # >= 0
        why_np[mem] = _intern(wkey, why_table, lambda key: _why_of_key(key, why_zone))
        lkey = sp * 8 + flat.group_mask_np[g_m]
        load_np[mem] = _intern(lkey, load_table, lambda key: load_of(key & 7, key >> 3))
        setpoint_np[mem] = sp
        state_np[mem] = _CHARGING_I
        vip_np[mem] = is_vip
        if excess:
            in_set = np.zeros(n, dtype=bool)
            in_set[mem] = True
            for i, over_a in excess.items():
                if not in_set[i]:
                    continue
                # Its share stays its setpoint in the accounting; it is told less, by
                # what it draws on top, so that its real draw fits that share.
                setpoint = int(setpoint_np[i]) - over_a
                if setpoint < min_a[i]:
                    setpoint = 0
                    state_np[i] = _SUSPENDED_I
                setpoint_np[i] = setpoint
                why_table.append((*why_table[why_np[i]], "not_respecting"))
                why_np[i] = len(why_table) - 1
        used = (flat.incidence @ used_by_group + 0.0).tolist()

    if suspended[0]:
        sus = np.array(suspended[0], dtype=np.intp)
        setpoint_np[sus] = 0
        state_np[sus] = _SUSPENDED_I
        load_np[sus] = 0
        vip_np[sus] = vip_all[sus]
        why_np[sus] = _intern(np.array(suspended[1], dtype=np.intp), why_table, lambda k: ("min_current", *why_zone(k)))

    setpoints = setpoint_np.tolist()
    out = list(
        map(
            tuple.__new__,
            repeat(ConnectorResult),
            zip(
                flat.station_of,
                flat.connector_id,
                setpoints,
                _STATES_NP[state_np].tolist(),
                _objects(why_table)[why_np].tolist(),
                fallback_col,
                _objects(load_table)[load_np].tolist(),
                vip_np.tolist(),
                min_a,
                outcome.hi_a,
                strict=True,
            ),
        )
    )
    if outcome.caps:
        _capped_results(topology, outcome, why_zone, used, out, setpoints)

    zones = []
    parents = topology.zone_parent
    new_phases = tuple.__new__
    for zi, zone_id in enumerate(zone_ids):
        lim = limits[zi]
        why_z = lim.reasons
        parent = parents[zi]
        l0, l1, l2 = lim.limit_a
        while parent >= 0:
            p0, p1, p2 = limits[parent].limit_a
            if p0 < l0 - _EPS or p1 < l1 - _EPS or p2 < l2 - _EPS:
                why_z = (*why_z, f"parent:{zone_ids[parent]}")
                break
            parent = parents[parent]
        k = zi * 3
        zones.append(
            new_phases(
                ZoneResult,
                (
                    zone_id,
                    lim.limit_a,
                    new_phases(Phases, used[k : k + 3]),
                    new_phases(Phases, reserved[k : k + 3]),
                    lim.degraded,
                    why_z,
                    lim.measured_a,
                ),
            )
        )

    new_state = AllocatorState(
        ranking=ranking,
        ranked_at=ranked_at,
        setpoints=_setpoints(keys, setpoints, setpoint_np if not outcome.caps else None, previous),
        under_since=under_since,
        over_since=over_since,
    )
    return Allocation(snapshot.time, tuple(out), tuple(zones)), new_state


def _setpoints(
    keys: tuple[ConnectorKey, ...],
    setpoints: list[int],
    setpoint_np: np.ndarray | None,
    previous: tuple[dict[ConnectorKey, int], np.ndarray] | None,
) -> dict[ConnectorKey, int]:
    """The setpoints to carry, as dict(zip(keys, setpoints)): the same keys in
    the same order as `previous` copy it (no key hashed) and only the
    setpoints that changed are written."""
    if previous is None:
        return dict(zip(keys, setpoints, strict=True))
    last, last_np = previous
    now_np = setpoint_np if setpoint_np is not None else np.array(setpoints, dtype=np.int64)
    changed = np.flatnonzero(last_np != now_np).tolist()
    if len(changed) > len(keys) // 2 or not (np.abs(last_np) < 2.0**52).all():  # (floats compare ints exactly)
        return dict(zip(keys, setpoints, strict=True))
    out = last.copy()
    for i in changed:
        out[keys[i]] = setpoints[i]
    return out


def _objects(values: Sequence[object]) -> np.ndarray:
    """An object array of `values` (tuples stay elements, not rows)."""
    out = np.empty(len(values), dtype=object)
    for j, v in enumerate(values):
        out[j] = v
    return out


def _intern(keys: np.ndarray, table: list[_T], make: Callable[[int], _T]) -> np.ndarray:
    """Index into `table` of each key's value, `make(key)` appended once per
    distinct key (keys are small non-negative ints)."""
    seen = np.zeros(int(keys.max()) + 1, dtype=bool)
    seen[keys] = True
    distinct = np.flatnonzero(seen)
    position = np.zeros(len(seen), dtype=np.intp)
    position[distinct] = np.arange(len(table), len(table) + len(distinct))
    table.extend(make(key) for key in distinct.tolist())
    index: np.ndarray = position[keys]
    return index


def _why_of_key(key: int, why_zone: Callable[[int], tuple[str, ...]]) -> tuple[str, ...]:
    rest, is_vip = divmod(key, 2)
    binding, code = divmod(rest, 4)
    return _why(bool(is_vip), code, why_zone(binding - 1) if code == 0 else ())


def _why(vip: bool, code: int, zone: tuple[str, ...]) -> tuple[str, ...]:
    head = ("vip",) if vip else ()
    if code == 0:
        return (*head, *zone)
    if code == 1:
        return (*head, "car_max")
    if code == 2:
        return (*head, "connector_max")
    return head


def _capped_results(
    topology: Topology,
    outcome: Outcome,
    why_zone: Callable[[int], tuple[str, ...]],
    used: list[float],
    out: list[ConnectorResult],
    setpoints: list[int],
) -> None:
    """Results under consumption optimisation: loads follow the draw caps.

    Accounted loads are not whole amps here, so they are added to `used` one
    connector at a time, VIPs first, in rank order, as the filling saw them.
    """
    specs = topology.connectors
    vip = outcome.vip
    for members, bindings, levels in outcome.capped:
        for i, binding, setpoint in zip(members, bindings, levels, strict=True):
            spec = specs[i]
            caps = outcome.caps[i]
            hi = outcome.hi_a[i]
            why: list[str] = ["vip"] if vip[i] else []
            if binding != AT_MAX:
                why.extend(why_zone(binding))
            elif i in outcome.car_limited and setpoint >= hi:
                why.append("car_max")
            elif setpoint >= spec.max_a:
                why.append("connector_max")
            values = [0.0, 0.0, 0.0]
            for p, ks in spec.phase_constraints:
                values[p] = min(float(setpoint), caps[p])
                for k in ks:
                    used[k] += values[p]
            load = Phases(*values)
            if any(caps[p] != math.inf for p in range(3) if spec.used[p]):
                why.append("ev_draw")
            state_now = _CHARGING
            over_a = outcome.excess.get(i)
            if over_a:
                setpoint = setpoint - over_a
                if setpoint < spec.min_a:
                    setpoint, state_now = 0, _SUSPENDED
                why.append("not_respecting")
            setpoints[i] = setpoint
            out[i] = ConnectorResult(
                spec.key[0], spec.key[1], setpoint, state_now, tuple(why), spec.fallback_a, load, vip[i], spec.min_a, hi
            )
