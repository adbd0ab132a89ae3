"""An independent reading of SPEC §2 step 1-2 (limits, reservations) and the
§2 invariants, used by table tests and hypothesis properties.

Written from the spec, not from the engine: effective zone limits per grid
phase, reservations of stations that lost the controller, and the checks
every allocation must pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from edgectl.core.phases import Phases
from edgectl.core.result import Allocation, ConnectorResult, ConnectorState
from edgectl.core.site import WEEKDAYS, Site, TouSlot, Zone, ZoneMode
from edgectl.core.snapshot import Snapshot
from edgectl.core.state import AllocatorParams, AllocatorState
from edgectl.core.topology import ConnectorKey, ConnectorSpec, Topology

EPS = 1e-6


def _slot_applies(slot: TouSlot, days: tuple[str, ...], local: datetime) -> bool:
    """[start, end) in local time; end <= start runs past midnight into the next day."""
    day = WEEKDAYS[local.weekday()]
    prev = WEEKDAYS[(local - timedelta(days=1)).weekday()]
    t = local.time().replace(second=0, microsecond=0, tzinfo=None)
    if slot.start < slot.end:
        return day in days and slot.start <= t < slot.end
    return (day in days and t >= slot.start) or (prev in days and t < slot.end)


def tou_percent(site: Site, z: Zone, at: datetime) -> int | None:
    """Lowest % of the enabled periods applying to zone z now, or None."""
    if not site.tou.enabled or not z.tou_enabled:
        return None
    local = at.astimezone(ZoneInfo(site.settings.timezone))
    pcts = [
        p.percent
        for p in site.tou.periods
        if p.enabled and (p.zones is None or z.id in p.zones) and any(_slot_applies(s, p.days, local) for s in p.slots)
    ]
    return min(pcts) if pcts else None


def _subtree(site: Site, zid: str) -> set[str]:
    return {z.id for z in site.zones if zid in site.zone_path(z.id)}


def _ev_current(
    topology: Topology, snapshot: Snapshot, zones: set[str], state: AllocatorState | None = None
) -> Phases:
    """EV current in `zones`, each car counted at no more than its last setpoint."""
    caps = state.setpoints if state is not None else {}
    total = Phases()
    for spec in topology.connectors:
        if spec.zone not in zones:
            continue
        obs = snapshot.stations.get(spec.key[0])
        if obs is None or not obs.online:
            continue
        c = obs.connectors.get(spec.key[1])
        if c is not None and c.current_a is not None:
            cap = caps.get(spec.key)
            # A NaN phase counts 0 A (as an absent report: under-counting only shrinks the budget).
            reported = Phases(*(0.0 if math.isnan(v) else v for v in c.current_a))
            current = reported if cap is None else Phases(*(min(v, cap) for v in reported))
            total = total + spec.to_grid(current)
    return total


@dataclass(frozen=True)
class ZoneLimit:
    limit: Phases
    degraded: bool


def zone_limits(
    topology: Topology,
    snapshot: Snapshot,
    params: AllocatorParams | None = None,
    state: AllocatorState | None = None,
) -> dict[str, ZoneLimit]:
    params = params or AllocatorParams()
    site = topology.site
    active = [di.percent for di in site.digital_inputs if di.enabled and snapshot.digital_inputs.get(di.channel, False)]
    out: dict[str, ZoneLimit] = {}
    for z in site.zones:
        mx = float(z.max_current_a)
        degraded = False
        if z.mode is ZoneMode.STATIC:
            lim = Phases.uniform(mx)
        else:
            reading = snapshot.meters.get(z.meter or "")
            fresh = reading is not None and (
                reading.sampled_at is None
                or (snapshot.time - reading.sampled_at).total_seconds() <= params.meter_stale_s
            )
            if reading is None or not fresh:
                degraded = True
                lim = Phases.uniform(float(z.degraded_current_a))
            else:
                ev = _ev_current(topology, snapshot, _subtree(site, z.id), state)
                other = reading.current_a - ev
                lim = Phases(*(min(mx, max(0.0, mx - o)) for o in other))
        if active:
            lim = lim.cap(min(active) / 100 * mx)
        else:
            pct = tou_percent(site, z, snapshot.time)
            if pct is not None:
                lim = lim.cap(pct / 100 * mx)
        remote = snapshot.remote_setpoints_a.get(z.id)
        if remote is not None:
            lim = lim.cap(max(0.0, float(remote)))
        out[z.id] = ZoneLimit(lim.clamp_low(0.0), degraded)
    return out


def is_offline(spec: ConnectorSpec, snapshot: Snapshot) -> bool:
    obs = snapshot.stations.get(spec.key[0])
    return obs is None or not obs.online


def fallback(spec: ConnectorSpec, state: AllocatorState | None) -> int:
    if spec.dc:
        return int((state or AllocatorState()).setpoints.get(spec.key, 0))
    return spec.fallback_a


def wants(spec: ConnectorSpec, snapshot: Snapshot) -> bool:
    obs = snapshot.stations.get(spec.key[0])
    if obs is None or not obs.online:
        return False
    c = obs.connectors.get(spec.key[1])
    return c is not None and c.wants_current


def is_vip(site: Site, spec: ConnectorSpec, snapshot: Snapshot) -> bool:
    """VIP station, or a VIP card on the connector's session."""
    if spec.vip_station:
        return True
    obs = snapshot.stations.get(spec.key[0])
    c = obs.connectors.get(spec.key[1]) if obs else None
    card = site.card(c.id_tag) if c is not None and c.id_tag else None
    return bool(card and card.vip)


def reservations(topology: Topology, snapshot: Snapshot, state: AllocatorState | None) -> list[list[float]]:
    res = [[0.0, 0.0, 0.0] for _ in topology.zone_ids]
    for spec in topology.connectors:
        if is_offline(spec, snapshot):
            _add(res, spec, fallback(spec, state))
    return res


def _add(acc: list[list[float]], spec: ConnectorSpec, amps: float) -> None:
    for zi in spec.path:
        for p in range(3):
            if spec.used[p]:
                acc[zi][p] += amps


def _by_key(alloc: Allocation) -> dict[ConnectorKey, ConnectorResult]:
    out: dict[ConnectorKey, ConnectorResult] = {}
    for c in alloc.connectors:
        key = (c.station, c.connector)
        assert key not in out, f"connector {key} reported twice"
        out[key] = c
    return out


def check_invariants(
    topology: Topology,
    snapshot: Snapshot,
    alloc: Allocation,
    state: AllocatorState | None = None,
    params: AllocatorParams | None = None,
    *,
    check_limits: bool = True,
    check_slack: bool = True,
    accounted: bool = False,
) -> None:
    """Every SPEC §2 invariant, with the reservation rule of the engine notes."""
    results = _by_key(alloc)
    specs = {s.key: s for s in topology.connectors}
    assert set(results) == set(specs), "every connector gets exactly one result"
    limits = zone_limits(topology, snapshot, params, state)
    lim = [limits[zid].limit for zid in topology.zone_ids]
    reserved = reservations(topology, snapshot, state)
    used = [[0.0, 0.0, 0.0] for _ in topology.zone_ids]
    base = [list(r) for r in reserved]  # reservations + admitted minimums
    count = [[0, 0, 0] for _ in topology.zone_ids]
    for key, spec in specs.items():
        r = results[key]
        if is_offline(spec, snapshot):
            assert r.state is ConnectorState.OFFLINE, f"{key}: offline station -> state offline, got {r.state}"
            assert r.setpoint_a == fallback(spec, state), f"{key}: offline setpoint is its fallback"
            continue
        if not wants(spec, snapshot):
            assert r.state is ConnectorState.IDLE and r.setpoint_a == 0, f"{key}: not wanting -> idle at 0, got {r}"
            continue
        if "not_respecting" in r.limited_by:
            # A station drawing over its setpoint: told less (possibly 0), but its
            # zones carry its fair share, which is what it really draws.
            assert r.setpoint_a == 0 or spec.min_a <= r.setpoint_a <= spec.max_a, f"{key}: {r.setpoint_a} A"
            for p in range(3):
                for zi in spec.path:
                    used[zi][p] += r.load_a[p]
            _add(base, spec, spec.min_a)
            _add(count, spec, 1)  # type: ignore[arg-type]
            continue
        if r.setpoint_a == 0:
            assert r.state is ConnectorState.SUSPENDED, f"{key}: 0 A while wanting -> suspended, got {r.state}"
            continue
        assert r.state is ConnectorState.CHARGING, f"{key}: {r.state} with setpoint {r.setpoint_a}"
        assert spec.min_a <= r.setpoint_a <= spec.max_a, f"{key}: {r.setpoint_a} A outside [{spec.min_a}, {spec.max_a}]"
        if accounted:
            # Consumption optimisation: zones carry what each connector is accounted for.
            for p in range(3):
                assert r.load_a[p] <= (r.setpoint_a if spec.used[p] else 0) + EPS, (
                    f"{key}: load {r.load_a} above setpoint"
                )
                for zi in spec.path:
                    used[zi][p] += r.load_a[p]
        else:
            _add(used, spec, r.setpoint_a)
        _add(base, spec, spec.min_a)
        _add(count, spec, 1)  # type: ignore[arg-type]

    for zi, zid in enumerate(topology.zone_ids):
        zr = next(z for z in alloc.zones if z.id == zid)
        for p in range(3):
            name = f"zone {zid} L{p + 1}"
            if check_limits:
                assert abs(zr.limit_a[p] - lim[zi][p]) < EPS, (
                    f"{name}: engine limit {zr.limit_a[p]} vs spec {lim[zi][p]}"
                )
                assert zr.degraded == limits[zid].degraded, f"zone {zid}: degraded {zr.degraded}"
            assert abs(zr.reserved_a[p] - reserved[zi][p]) < EPS, (
                f"{name}: reserved {zr.reserved_a[p]} != {reserved[zi][p]}"
            )
            assert abs(zr.used_a[p] - used[zi][p]) < EPS, f"{name}: used {zr.used_a[p]} != {used[zi][p]}"
            cap = lim[zi][p]
            assert reserved[zi][p] + used[zi][p] <= max(cap, reserved[zi][p]) + EPS, (
                f"{name}: reserved {reserved[zi][p]} + setpoints {used[zi][p]} > limit {cap}"
            )
            if reserved[zi][p] > cap + EPS:
                assert used[zi][p] == 0, f"{name}: reservations exceed the limit, yet {used[zi][p]} A allocated"

    vip = {key: is_vip(topology.site, spec, snapshot) for key, spec in specs.items()}
    admitted_vip_base = [list(r) for r in reserved]
    any_nonvip_admitted = False
    for key, spec in specs.items():
        r = results[key]
        if r.state in (ConnectorState.CHARGING, ConnectorState.SUSPENDED):
            assert r.vip == vip[key], f"{key}: vip flag {r.vip}, spec says {vip[key]}"
        if r.state is ConnectorState.CHARGING or "not_respecting" in r.limited_by:
            if vip[key]:
                _add(admitted_vip_base, spec, spec.min_a)
            else:
                any_nonvip_admitted = True

    def fits(acc: list[list[float]], spec: ConnectorSpec) -> bool:
        return all(acc[zi][p] + spec.min_a <= lim[zi][p] + EPS for zi in spec.path for p in range(3) if spec.used[p])

    if accounted:
        return  # admission and slack are over accounted draws, which the SPEC leaves open
    for key, spec in specs.items():
        r = results[key]
        if r.state is ConnectorState.SUSPENDED and "not_respecting" not in r.limited_by:
            assert not fits(base, spec), f"{key}: suspended although its {spec.min_a} A minimum fits"
            if vip[key] and any_nonvip_admitted:
                assert not fits(admitted_vip_base, spec), f"{key}: VIP suspended while it fits and non-VIPs charge"
        if (
            check_slack
            and r.state is ConnectorState.CHARGING
            and r.setpoint_a < spec.max_a
            # A station drawing over its setpoint is told its fair share minus
            # its excess (SPEC, not respecting): below max by design.
            and "not_respecting" not in r.limited_by
        ):
            # Max-min fair filling wastes less than 1 A per connector on its binding constraint.
            assert any(
                lim[zi][p] - reserved[zi][p] - used[zi][p] < count[zi][p] + EPS
                for zi in spec.path
                for p in range(3)
                if spec.used[p]
            ), f"{key}: at {r.setpoint_a} A below max {spec.max_a} with room left on every zone of its path: {r}"


def assert_same(a: Allocation, b: Allocation) -> None:
    assert a.as_dict() == b.as_dict()


def keyed(mapping: Mapping[ConnectorKey, int]) -> dict[str, int]:
    return {f"{k[0]}:{k[1]}": v for k, v in sorted(mapping.items())}


def rank_key(site: Site, spec: ConnectorSpec, snapshot: Snapshot) -> tuple[bool, float, str, int]:
    """SPEC §2 step 3: VIP first, then the shedding priority, ties by identity."""
    obs = snapshot.stations[spec.key[0]].connectors[spec.key[1]]
    if site.settings.shedding_priority.value == "energy":
        value = obs.energy_wh
    elif obs.charging_s is not None:
        value = obs.charging_at(snapshot.time)
    else:
        value = (snapshot.time - obs.started).total_seconds() if obs.started else 0.0
    return (not is_vip(site, spec, snapshot), value, spec.key[0], spec.key[1])


def fresh_ranking(topology: Topology, snapshot: Snapshot) -> list[ConnectorKey]:
    wanting = [s for s in topology.connectors if wants(s, snapshot)]
    wanting.sort(key=lambda s: rank_key(topology.site, s, snapshot))
    return [s.key for s in wanting]


def expected_admitted(
    topology: Topology,
    snapshot: Snapshot,
    state: AllocatorState | None,
    order: list[ConnectorKey] | None = None,
) -> set[ConnectorKey]:
    """Greedy admission at the minimum in rank order (fresh unless `order` is given)."""
    limits = zone_limits(topology, snapshot, None, state)
    lim = [limits[zid].limit for zid in topology.zone_ids]
    acc = reservations(topology, snapshot, state)
    specs = {s.key: s for s in topology.connectors}
    wanting = [specs[k] for k in (order if order is not None else fresh_ranking(topology, snapshot))]
    admitted: set[ConnectorKey] = set()
    for spec in wanting:
        if all(acc[zi][p] + spec.min_a <= lim[zi][p] + EPS for zi in spec.path for p in range(3) if spec.used[p]):
            _add(acc, spec, spec.min_a)
            admitted.add(spec.key)
    return admitted


def check_bottlenecks(topology: Topology, snapshot: Snapshot, alloc: Allocation, state: AllocatorState | None) -> None:
    """Max-min fairness, within whole-amp rounding: a connector below its maximum
    has a full (zone, phase) on which no peer of its class (VIP / non-VIP)
    that rose above its minimum got more than 1 A more than it did."""
    results = _by_key(alloc)
    specs = {s.key: s for s in topology.connectors}
    limits = zone_limits(topology, snapshot, None, state)
    lim = [limits[zid].limit for zid in topology.zone_ids]
    reserved = reservations(topology, snapshot, state)
    used = [[0.0, 0.0, 0.0] for _ in topology.zone_ids]
    count = [[0.0, 0.0, 0.0] for _ in topology.zone_ids]
    on: dict[tuple[int, int], list[ConnectorKey]] = {}
    charging = [k for k, r in results.items() if r.state is ConnectorState.CHARGING]
    for key in charging:
        spec = specs[key]
        _add(used, spec, results[key].setpoint_a)
        _add(count, spec, 1)
        for zi in spec.path:
            for p in range(3):
                if spec.used[p]:
                    on.setdefault((zi, p), []).append(key)
    vip = {k: is_vip(topology.site, specs[k], snapshot) for k in charging}
    for key in charging:
        spec, sp = specs[key], results[key].setpoint_a
        if sp >= spec.max_a:
            continue
        ok = False
        for zi in spec.path:
            for p in range(3):
                if not spec.used[p] or lim[zi][p] - reserved[zi][p] - used[zi][p] >= count[zi][p] + EPS:
                    continue
                peers = [d for d in on[(zi, p)] if vip[d] == vip[key] and results[d].setpoint_a > specs[d].min_a + 1]
                if all(results[d].setpoint_a <= sp + 1 for d in peers):
                    ok = True
        assert ok, f"{key} at {sp} A: no full zone/phase where it is among the best served of its class"
