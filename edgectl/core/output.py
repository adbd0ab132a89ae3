"""Step 6 of the cycle: one `ConnectorResult` per connector, one `ZoneResult`
per zone, and the state carried to the next cycle.

Reasons (`limited_by`, vocabulary in edgectl.core.result) and loads take few
distinct values per cycle, so each distinct one is built once and shared
(they are immutable). A zone's `used` adds, over its subtree, the share each
admitted connector is accounted at (before a `not_respecting` cut).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple

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


def _result(fields: tuple[object, ...]) -> ConnectorResult:  # replaced below by its fast equivalent
    return ConnectorResult._make(fields)


# A ConnectorResult from its fields in order, without the Python-level
# NamedTuple constructor: half the cost, and a cycle builds one per connector.
_result = functools.partial(tuple.__new__, ConnectorResult)


class Outcome(NamedTuple):
    """What admission and filling decided, by connector number."""

    admitted: list[int]  # in rank order
    vip: list[bool]
    hi_a: Sequence[int]  # highest current: connector max, or the car's when it takes less
    car_limited: set[int]
    caps: dict[int, tuple[float, float, float]]  # consumption optimisation (empty: off)
    # Uncapped fills, VIPs first: (members in rank order, classes (lo, hi, group, n),
    # level and binding per class, class of each member, setpoint of each member).
    sets: list[tuple[list[int], list[tuple[int, int, int, int]], list[int], list[int], list[int], list[int]]]
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
    suspended: list[tuple[int, int]],
    ranking: tuple[ConnectorKey, ...],
    ranked_at: datetime | None,
    under_since: dict[ConnectorKey, _Since],
    over_since: dict[ConnectorKey, datetime],
) -> tuple[Allocation, AllocatorState]:
    flat = topology.flat
    zone_ids = topology.zone_ids
    n_zones = len(zone_ids)
    keys = flat.keys
    group = flat.group
    group_ks = flat.group_constraints
    group_mask = flat.group_mask
    fallback_a = flat.fallback_a
    min_a = flat.min_a
    max_a = flat.max_a
    zone_why = [tuple(r for r in lim.reasons if r != "max_current") for lim in limits]
    why_cache: dict[int, tuple[str, ...]] = {}

    def why_zone(k: int) -> tuple[str, ...]:
        why = why_cache.get(k)
        if why is None:
            zi, p = divmod(k, 3)
            why = why_cache[k] = (f"zone:{zone_ids[zi]}:{PHASE_NAMES[p]}", *zone_why[zi])
        return why

    loads: dict[int, Phases] = {}

    def load_of(mask: int, amps: int) -> Phases:
        # What `amps` on every grid phase of `mask` weighs, as ConnectorSpec.load.
        key = amps * 8 + mask
        load = loads.get(key)
        if load is None:
            load = loads[key] = Phases(amps if mask & 1 else 0.0, amps if mask & 2 else 0.0, amps if mask & 4 else 0.0)
        return load

    out: list[ConnectorResult] = list(flat.idle_available)
    setpoints = [0] * len(keys)
    reserved = [0.0] * (n_zones * 3)
    if offline:
        by_group: dict[int, int] = {}
        for i, fallback in offline:
            g = group[i]
            by_group[g] = by_group.get(g, 0) + fallback
            setpoints[i] = fallback
            key = keys[i]
            out[i] = _result(
                (key[0], key[1], fallback, ConnectorState.OFFLINE, ("offline",), fallback,
                 load_of(group_mask[g], fallback), False, min_a[i], max_a[i])
            )  # fmt: skip
        for g, amps in by_group.items():
            for k in group_ks[g]:
                reserved[k] += amps

    for i, status in idle.items():
        if status != "Available":
            key = keys[i]
            out[i] = _result(
                (key[0], key[1], 0, ConnectorState.IDLE, (f"status:{status}",), fallback_a[i], ZERO, False,
                 min_a[i], max_a[i])
            )  # fmt: skip

    used = [0.0] * (n_zones * 3)
    if outcome.caps:
        _capped_results(topology, outcome, why_zone, used, out, setpoints)
    vip = outcome.vip
    car_limited = outcome.car_limited
    excess = outcome.excess
    station_of = flat.station_of
    connector_id = flat.connector_id
    used_by_group = [0] * len(group_ks)
    for members, classes, levels, bindings, member_class, setpoint_of in outcome.sets:
        # Per class and +0/+1 A: its reasons and load (car limits aside).
        whys: dict[int, tuple[str, ...]] = {}
        for (_lo, _hi, g, n), level in zip(classes, levels, strict=True):
            used_by_group[g] += n * level
        for i, c, setpoint in zip(members, member_class, setpoint_of, strict=True):
            lo, hi, g, _n = classes[c]
            binding = bindings[c]
            extra = setpoint - levels[c]
            if extra:
                used_by_group[g] += extra
            if binding != AT_MAX:
                code = 0
            elif setpoint >= hi and i in car_limited:
                code = 1
            elif setpoint >= max_a[i]:
                code = 2
            else:
                code = 3
            is_vip = vip[i]
            wkey = (binding * 4 + code) * 2 + is_vip
            why = whys.get(wkey)
            if why is None:
                why = whys[wkey] = _why(is_vip, code, why_zone(binding) if code == 0 else ())
            load = loads.get(setpoint * 8 + group_mask[g])
            if load is None:
                load = load_of(group_mask[g], setpoint)
            state_now = _CHARGING
            if excess:
                over_a = excess.get(i)
                if over_a:
                    # Its share stays `setpoint` in the accounting; it is told less, by
                    # what it draws on top, so that its real draw fits that share.
                    setpoint = setpoint - over_a
                    if setpoint < lo:
                        setpoint, state_now = 0, _SUSPENDED
                    why = (*why, "not_respecting")
            setpoints[i] = setpoint
            out[i] = _result(
                (station_of[i], connector_id[i], setpoint, state_now, why, fallback_a[i], load, is_vip, lo, hi)
            )
    for g, amps in enumerate(used_by_group):
        if amps:
            for k in group_ks[g]:
                used[k] += amps

    for i, k in suspended:
        key = keys[i]
        out[i] = _result(
            (key[0], key[1], 0, _SUSPENDED, ("min_current", *why_zone(k)), fallback_a[i], ZERO, outcome.vip[i],
             min_a[i], outcome.hi_a[i])
        )  # fmt: skip

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
                zone_id,
                lim.limit_a,
                Phases(*used[zi * 3 : zi * 3 + 3]),
                Phases(*reserved[zi * 3 : zi * 3 + 3]),
                lim.degraded,
                tuple(why_z),
                lim.measured_a,
            )
        )

    new_state = AllocatorState(
        ranking=ranking,
        ranked_at=ranked_at,
        setpoints=dict(zip(keys, setpoints, strict=True)),
        under_since=under_since,
        over_since=over_since,
    )
    return Allocation(snapshot.time, tuple(out), tuple(zones)), new_state


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
