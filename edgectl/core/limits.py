"""Step 1 of the cycle: each zone's effective limit per grid phase, and why.

- static: max_current; dynamic: max − (meter − measured EV current in the
  zone), clamped to [0, max]; a lost or stale meter: degraded_current;
- any enabled, active digital input: min(limit, lowest % × max), and then
  time-of-use is ignored; otherwise an applying TOU period: min(limit, % × max);
- a remote energy-management setpoint caps the zone the same way.
The parent bound is not folded in here: the filler treats every zone as a
constraint over its whole subtree, so a parent bounds its children by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edgectl.core.phases import Phases
from edgectl.core.site import Zone, ZoneMode
from edgectl.core.snapshot import Snapshot
from edgectl.core.state import AllocatorParams
from edgectl.core.topology import Topology
from edgectl.core.tou import active_tou, local_time

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class ZoneLimit:
    limit_a: Phases
    reasons: tuple[str, ...]
    degraded: bool
    measured_a: Phases | None


def active_inputs(topology: Topology, snapshot: Snapshot) -> tuple[int, tuple[str, ...]] | None:
    """(lowest percent, reasons) of the enabled active digital inputs, or None."""
    best: int | None = None
    reasons: list[str] = []
    for di in topology.site.digital_inputs:
        if not di.enabled or not snapshot.digital_inputs.get(di.channel, False):
            continue
        if best is None or di.percent < best:
            best, reasons = di.percent, [f"di:{di.channel}"]
        elif di.percent == best:
            reasons.append(f"di:{di.channel}")
    return None if best is None else (best, tuple(reasons))


def zone_limits(
    topology: Topology,
    snapshot: Snapshot,
    params: AllocatorParams,
    ev_grid_a: Sequence[Phases],
) -> list[ZoneLimit]:
    """Effective limits in `topology.zone_ids` order.

    `ev_grid_a[i]` is the measured EV current (grid phases) of the online
    connectors in zone i's subtree, used to take the EVs out of the meter.
    """
    site = topology.site
    zones = topology.zones
    di = active_inputs(topology, snapshot)
    tou_on = site.tou.enabled and bool(site.tou.periods)
    local = local_time(snapshot.time, site.settings.timezone) if di is None and tou_on else None
    remote_setpoints = snapshot.remote_setpoints_a
    static = _static_limits(topology)
    out: list[ZoneLimit] = []
    for i, zone_id in enumerate(topology.zone_ids):
        zone = zones[i]
        caps: list[tuple[float, tuple[str, ...]]] = []
        if di is not None:
            caps.append((di[0] * zone.max_current_a / 100.0, di[1]))
        elif local is not None:
            tou = active_tou(site.tou, zone, local)
            if tou is not None:
                caps.append((tou[0] * zone.max_current_a / 100.0, tuple(f"tou:{n}" for n in tou[1])))
        if remote_setpoints:
            remote = remote_setpoints.get(zone_id)
            if remote is not None:
                caps.append((max(0.0, float(remote)), ("remote",)))
        at_max = static[i]
        reasons: tuple[tuple[str, ...], ...]
        if at_max is not None:
            if not caps:
                out.append(at_max)  # a static zone nothing caps: its maximum (configuration only)
                continue
            base, reasons, degraded, measured = at_max.limit_a, _AT_MAX, False, None
        else:
            base, reasons, degraded, measured = _base_limit(zone, snapshot, params, ev_grid_a[i])
        if caps:
            limit, why = _apply_caps(base, reasons, caps)
        else:
            limit, why = base, _merged(reasons)
        out.append(ZoneLimit(limit, why, degraded, measured))
    return out


_AT_MAX: tuple[tuple[str, ...], ...] = (("max_current",),) * 3


def _static_limits(topology: Topology) -> tuple[ZoneLimit | None, ...]:
    """Per zone: a static zone's limit when nothing caps it (its maximum on
    every phase), None for a dynamic zone. Configuration only, so made once
    per topology (kept in `Flat.memo`)."""
    memo = topology.flat.memo
    static = memo.get("static_limits")
    if static is None:
        static = memo["static_limits"] = tuple(
            ZoneLimit(Phases.uniform(float(z.max_current_a)), _merged(_AT_MAX), False, None)
            if z.mode is ZoneMode.STATIC
            else None
            for z in topology.zones
        )
    return static  # type: ignore[return-value]


def _merged(reasons: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    """The per-phase reasons merged in phase order, without repeats."""
    first = reasons[0]
    if reasons[1] == first and reasons[2] == first and len(set(first)) == len(first):
        return first
    merged: list[str] = []
    for why in reasons:
        merged.extend(r for r in why if r not in merged)
    return tuple(merged)


def _base_limit(
    zone: Zone, snapshot: Snapshot, params: AllocatorParams, ev_grid_a: Phases
) -> tuple[Phases, tuple[tuple[str, ...], ...], bool, Phases | None]:
    """Per-phase base limit and per-phase reasons."""
    if zone.mode is ZoneMode.STATIC:
        return Phases.uniform(float(zone.max_current_a)), (("max_current",),) * 3, False, None
    reading = snapshot.meters.get(zone.meter or "")
    fresh = reading is not None and (
        reading.sampled_at is None or (snapshot.time - reading.sampled_at).total_seconds() <= params.meter_stale_s
    )
    if reading is None or not fresh:
        return Phases.uniform(float(zone.degraded_current_a)), (("degraded",),) * 3, True, None
    max_a = float(zone.max_current_a)
    values: list[float] = []
    reasons: list[tuple[str, ...]] = []
    for p in range(3):
        # Building load = meter − EVs; the EVs may have the rest, never below 0.
        budget = max_a - (reading.current_a[p] - ev_grid_a[p])
        if budget >= max_a - _EPS:
            values.append(max_a)
            reasons.append(("max_current",))
        else:
            values.append(max(0.0, budget))
            reasons.append(("meter",))
    return Phases(*values), tuple(reasons), False, reading.current_a


def _apply_caps(
    base: Phases, reasons: tuple[tuple[str, ...], ...], caps: list[tuple[float, tuple[str, ...]]]
) -> tuple[Phases, tuple[str, ...]]:
    values = list(base)
    why = [list(r) for r in reasons]
    for cap, cap_reasons in caps:
        for p in range(3):
            if cap < values[p] - _EPS:
                values[p] = cap
                why[p] = list(cap_reasons)
            elif abs(cap - values[p]) <= _EPS:
                why[p].extend(r for r in cap_reasons if r not in why[p])
    merged: list[str] = []
    for p in range(3):
        merged.extend(r for r in why[p] if r not in merged)
    return Phases(*values), tuple(merged)
