"""The site compiled for fast, repeated allocation.

`compile_site` runs once per configuration change. It resolves every
connector's zone path, wiring, minimum current (policy + model exceptions) and
degraded setpoint, so that a cycle only does arithmetic.

Degraded setpoints (SPEC §2 "Degraded mode"): for a connector in a static
leaf zone, every zone on its path is checked as one switchboard that must
survive every station falling back at once. For a zone Z the sum of the
minimum currents of all connectors below Z is taken per grid phase; if Z's
bound covers the worst phase, the scale for Z is bound / sum (>= 1), else the
zone cannot hold its stations' minimums and the scale is 0. The connector's
degraded setpoint is floor(min x smallest scale on its path), capped at its
maximum. A static zone's bound is its max_current; a dynamic *ancestor*'s bound
is its degraded_current, because that is the static budget it falls back to
when its meter or the controller is gone (our choice where the spec is
silent: it keeps a dead controller from overloading a metered main board).
Stations in a dynamic leaf zone fall back to 0 A (SPEC §2). DC stations keep
their last setpoint instead (handled as a reservation by the engine).

Speed: besides the per-connector `ConnectorSpec`s (the readable form, used by
callers and tests), `compile_site` lays out `Topology.flat`: per-connector
columns indexed by connector number and connectors grouped by the constraints
they load, so that a cycle walks lists of ints instead of objects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from edgectl.core.phases import Phases
from edgectl.core.site import (
    Site,
    StationModel,
    Zone,
    ZoneMode,
    connector_min_current_a,
)

ConnectorKey = tuple[str, int]  # (charge-box identity, connector id)
# key, zone, path, used phases, wiring map, min, max, VIP station, DC, socket
_Raw = tuple[ConnectorKey, str, tuple[int, ...], tuple[bool, bool, bool], tuple[int, ...], int, int, bool, bool, str]


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    key: ConnectorKey
    zone: str
    path: tuple[int, ...]  # zone indexes, leaf first, root last
    used: tuple[bool, bool, bool]  # grid phases the wiring loads
    wiring_map: tuple[int, ...]  # grid phase of each station terminal
    min_a: int
    max_a: int
    vip_station: bool
    dc: bool
    fallback_a: int  # degraded setpoint (static leaf) or 0 (dynamic leaf)
    socket: str
    # For each grid phase the wiring loads: (phase, constraint indexes zone*3+phase up the path)
    phase_constraints: tuple[tuple[int, tuple[int, ...]], ...]
    constraints: tuple[int, ...]  # every constraint it loads, flattened
    pairs_at_max: tuple[tuple[int, int], ...]  # (k, max_a) for the filler, precomputed
    dynamic_path: tuple[int, ...]  # dynamic zones on its path (they need its measured current)

    def load(self, amps: float) -> Phases:
        u = self.used
        return Phases(amps if u[0] else 0.0, amps if u[1] else 0.0, amps if u[2] else 0.0)

    def to_grid(self, station_currents_a: Phases) -> Phases:
        grid = [0.0, 0.0, 0.0]
        for station_phase, grid_phase in enumerate(self.wiring_map):
            grid[grid_phase] += station_currents_a[station_phase]
        return Phases(grid[0], grid[1], grid[2])


@dataclass(frozen=True, slots=True)
class Flat:
    """Configuration-only facts as columns indexed by connector number (the
    position in `Topology.connectors`), for the cycle's hot loops.

    A *group* is the set of connectors loading the same constraints (same
    zone path and same grid phases): they are interchangeable for admission
    and filling, and their loads add up per group before touching zones.
    """

    keys: tuple[ConnectorKey, ...]
    index: Mapping[ConnectorKey, int]
    tiebreak: tuple[int, ...]  # position of the key in sorted order (ranking ties)
    station_ids: tuple[str, ...]  # in site order
    station_members: tuple[tuple[int, ...], ...]  # connector numbers of each station
    station_sizes: tuple[int, ...]
    station_of: tuple[str, ...]  # per connector
    connector_id: tuple[int, ...]
    group: tuple[int, ...]
    min_a: tuple[int, ...]
    max_a: tuple[int, ...]
    vip_station: tuple[bool, ...]
    dc: tuple[bool, ...]
    fallback_a: tuple[int, ...]
    # Wiring as a code: 0..2 TRI123/TRI231/TRI312, 3..5 MONO on grid L1..L3.
    wiring: tuple[int, ...]
    dynamic_path: tuple[tuple[int, ...] | None, ...]  # dynamic zones on its path, if any
    # When every connector that has a dynamic zone above it has the same ones:
    # (those zones, the connectors); None otherwise.
    shared_dynamic: tuple[tuple[int, ...], tuple[int, ...]] | None
    group_constraints: tuple[tuple[int, ...], ...]
    group_mask: tuple[int, ...]  # bit p set: the group loads grid phase p
    incidence: np.ndarray = field(compare=False)  # (constraints x groups) 1.0 where the group loads it
    # The same columns as numpy arrays, for the cycle's vectorised steps.
    min_np: np.ndarray = field(compare=False)  # int64 per connector
    max_np: np.ndarray = field(compare=False)  # int64 per connector
    group_np: np.ndarray = field(compare=False)  # intp per connector
    group_mask_np: np.ndarray = field(compare=False)  # int64 per group
    wiring_np: np.ndarray = field(compare=False)  # int64 per connector
    vip_station_np: np.ndarray = field(compare=False)  # bool per connector
    # For the filling (edgectl.core.fill.group_fill): each (min, hi) entry's
    # min and hi, one member's load at every integer level
    # (entries x levels 0..highest max), and where each constraint stands in
    # its group's list (constraints x groups; _NOT_IN where the group does
    # not load it).
    entry_lo_np: np.ndarray = field(compare=False)  # float64 per entry
    ramp: np.ndarray = field(compare=False)  # float64 (entries x levels)
    kpos: np.ndarray = field(compare=False)  # int64 (constraints x groups)
    # The same with NOT_IN raised to 1 << 50 (above any first-touch rank key).
    kpos_key: np.ndarray = field(compare=False)  # int64 (constraints x groups)
    entry_of: Mapping[tuple[int, int], int] = field(compare=False)  # entry id of a (min, hi)
    entry_hi_np: np.ndarray = field(compare=False)  # float64 per entry
    # group x entries + entry of its (min, max), per connector: its cell of
    # the filling's (groups x entries) count table.
    cell_np: np.ndarray = field(compare=False)  # intp per connector
    admit_class_np: np.ndarray = field(compare=False)  # intp per connector: id of its (min, group)
    # EV current of the shared dynamic zones (`shared_dynamic`): for each of
    # its connectors (and a first row of zeros), the position of the value
    # feeding grid phase 0, 1, 2 in a buffer of its capped reports (3 per
    # connector, in order) followed by one 0.0.
    ev_take: np.ndarray | None = field(compare=False)  # intp ((members + 1) x 3)
    ev_members: np.ndarray | None = field(compare=False)  # intp; None: every connector
    # Cycle-to-cycle memo (edgectl.core.ranking): the connector numbers of the
    # last stored ranking, keyed by that tuple's identity (held, so the identity
    # stays its own). A pure cache: the same inputs give the same result.
    # Also the static zones' uncapped limits (edgectl.core.limits), made once.
    memo: dict[str, object] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Topology:
    site: Site
    zone_ids: tuple[str, ...]  # parents before children (stable order)
    zone_parent: tuple[int, ...]  # index of the parent, -1 for a root
    zone_depth: tuple[int, ...]
    connectors: tuple[ConnectorSpec, ...]  # in site order
    station_dc: Mapping[str, bool]
    vip_cards: frozenset[str]  # upper-cased id tags of authorized VIP cards
    flat: Flat
    zones: tuple[Zone, ...]  # the site's zones in `zone_ids` order

    def zone_index(self, zone_id: str) -> int:
        return self.zone_ids.index(zone_id)


def compile_site(site: Site, models: Mapping[str, StationModel]) -> Topology:
    """Resolve the site into arrays the engine can walk quickly."""
    zone_ids = _zones_parents_first(site)
    index = {zid: i for i, zid in enumerate(zone_ids)}
    zones = {z.id: z for z in site.zones}
    parent = tuple(-1 if zones[zid].parent is None else index[zones[zid].parent or ""] for zid in zone_ids)
    depth = tuple(len(site.zone_path(zid)) for zid in zone_ids)

    raw: list[_Raw] = []
    station_dc: dict[str, bool] = {}
    for station in site.stations:
        model = models.get(station.model)
        dc = bool(model and model.dc)
        station_dc[station.id] = dc
        path = tuple(index[z] for z in site.zone_path(station.zone))
        for conn in station.connectors:
            min_a = connector_min_current_a(site.settings.min_current, model, conn)
            raw.append(
                (
                    (station.id, conn.id),
                    station.zone,
                    path,
                    conn.wiring.grid_phases_used,
                    conn.wiring.grid_of_station_phase,
                    min_a,
                    conn.max_current_a,
                    station.vip,
                    dc,
                    conn.socket,
                )
            )

    # Per-zone scale for degraded setpoints (see module docstring).
    min_sum = [[0.0, 0.0, 0.0] for _ in zone_ids]
    for _key, _zone, path, used, _wm, min_a, _max, _vip, _dc, _sock in raw:
        for zi in path:
            for p in range(3):
                if used[p]:
                    min_sum[zi][p] += min_a
    scale: list[float] = []
    for zi, zid in enumerate(zone_ids):
        z = zones[zid]
        bound = z.max_current_a if z.mode is ZoneMode.STATIC else z.degraded_current_a
        worst = max(min_sum[zi])
        if worst <= 0:
            scale.append(math.inf)
        elif bound >= worst:
            scale.append(bound / worst)
        else:
            scale.append(0.0)

    specs: list[ConnectorSpec] = []
    for key, zone_id, path, used, wiring_map, min_a, max_a, vip, dc, sock in raw:
        if zones[zone_id].mode is ZoneMode.DYNAMIC:
            fallback = 0
        else:
            s = min(scale[zi] for zi in path)
            fallback = 0 if s == 0.0 else min(max_a, math.floor(min_a * s + 1e-9))
        pcs = tuple((p, tuple(zi * 3 + p for zi in path)) for p in range(3) if used[p])
        flat = tuple(k for _p, ks in pcs for k in ks)
        dyn = tuple(zi for zi in path if zones[zone_ids[zi]].mode is ZoneMode.DYNAMIC)
        specs.append(
            ConnectorSpec(
                key,
                zone_id,
                path,
                used,
                wiring_map,
                min_a,
                max_a,
                vip,
                dc,
                fallback,
                sock,
                pcs,
                flat,
                tuple((k, max_a) for k in flat),
                dyn,
            )
        )

    vip_cards = frozenset(c.id_tag.upper() for c in site.cards if c.vip and c.authorized)
    return Topology(
        site,
        zone_ids,
        parent,
        depth,
        tuple(specs),
        station_dc,
        vip_cards,
        _flatten(site, specs, len(zone_ids)),
        tuple(zones[zid] for zid in zone_ids),
    )


NOT_IN = 1 << 20  # Flat.kpos where a group does not load the constraint
_WIRING_CODES = {(0, 1, 2): 0, (1, 2, 0): 1, (2, 0, 1): 2, (0,): 3, (1,): 4, (2,): 5}


def _flatten(site: Site, specs: list[ConnectorSpec], n_zones: int) -> Flat:
    keys = tuple(s.key for s in specs)
    index = {k: i for i, k in enumerate(keys)}
    tiebreak = [0] * len(keys)
    for pos, i in enumerate(sorted(range(len(keys)), key=keys.__getitem__)):
        tiebreak[i] = pos
    groups: dict[tuple[int, ...], int] = {}
    group = [groups.setdefault(s.constraints, len(groups)) for s in specs]
    group_mask = [0] * len(groups)
    for s, g in zip(specs, group, strict=True):
        group_mask[g] = sum(1 << p for p in range(3) if s.used[p])
    incidence = np.zeros((n_zones * 3, len(groups)))
    for ks, g in groups.items():
        incidence[list(ks), g] = 1.0
    dynamic = tuple(s.dynamic_path or None for s in specs)
    with_dynamic = tuple(i for i, d in enumerate(dynamic) if d is not None)
    distinct = {d for d in dynamic if d is not None}
    shared = (distinct.pop(), with_dynamic) if len(distinct) == 1 else None
    members = tuple(tuple(index[(st.id, c.id)] for c in st.connectors) for st in site.stations)
    # Every (min, hi) a connector's range or a car limit below its max can
    # produce: the (min, max) pairs first, in site order, then the lower his.
    entries: dict[tuple[int, int], int] = {}
    ranges = dict.fromkeys((s.min_a, s.max_a) for s in specs)
    for lo_hi in ranges:
        entries.setdefault(lo_hi, len(entries))
    for lo, top in ranges:
        for hi in range(lo, top):
            entries.setdefault((lo, hi), len(entries))
    entry_lo = np.array([float(lo) for lo, _hi in entries], dtype=np.float64)
    entry_hi = np.array([float(hi) for _lo, hi in entries], dtype=np.float64)
    top = int(entry_hi.max()) if entries else 0
    levels = np.arange(top + 1, dtype=np.float64)
    ramp = np.clip(levels[None, :] - entry_lo[:, None], 0.0, (entry_hi - entry_lo)[:, None])
    ramp = ramp.reshape(len(entries), top + 1)
    kpos = np.full((n_zones * 3, len(groups)), NOT_IN, dtype=np.int64)
    for ks, g in groups.items():
        kpos[list(ks), g] = np.arange(len(ks))
    kpos_key = np.where(kpos < NOT_IN, kpos, np.int64(1) << 50)
    cell = [g * len(entries) + entries[(s.min_a, s.max_a)] for s, g in zip(specs, group, strict=True)]
    admit_ids: dict[tuple[int, int], int] = {}
    admit_class = [admit_ids.setdefault((s.min_a, g), len(admit_ids)) for s, g in zip(specs, group, strict=True)]
    ev_take: np.ndarray | None = None
    ev_members: np.ndarray | None = None
    if shared is not None:
        m = len(shared[1])
        take = [[3 * m] * 3]  # the first row: zeros
        for j, i in enumerate(shared[1]):
            row = [3 * m] * 3
            for station_phase, grid_phase in enumerate(specs[i].wiring_map):
                row[grid_phase] = 3 * j + station_phase
            take.append(row)
        ev_take = np.array(take, dtype=np.intp).reshape(m + 1, 3)
        if m != len(specs):
            ev_members = np.array(shared[1], dtype=np.intp)
    return Flat(
        keys,
        index,
        tuple(tiebreak),
        tuple(st.id for st in site.stations),
        members,
        tuple(len(m) for m in members),
        tuple(k[0] for k in keys),
        tuple(k[1] for k in keys),
        tuple(group),
        tuple(s.min_a for s in specs),
        tuple(s.max_a for s in specs),
        tuple(s.vip_station for s in specs),
        tuple(s.dc for s in specs),
        tuple(s.fallback_a for s in specs),
        tuple(_WIRING_CODES[s.wiring_map] for s in specs),
        dynamic,
        shared,
        tuple(groups),
        tuple(group_mask),
        incidence,
        np.array([s.min_a for s in specs], dtype=np.int64),
        np.array([s.max_a for s in specs], dtype=np.int64),
        np.array(group, dtype=np.intp),
        np.array(group_mask, dtype=np.int64),
        np.array([_WIRING_CODES[s.wiring_map] for s in specs], dtype=np.int64),
        np.array([s.vip_station for s in specs], dtype=bool),
        entry_lo,
        ramp,
        kpos,
        kpos_key,
        entries,
        entry_hi,
        np.array(cell, dtype=np.intp),
        np.array(admit_class, dtype=np.intp),
        ev_take,
        ev_members,
    )


def _zones_parents_first(site: Site) -> tuple[str, ...]:
    ordered: list[str] = []

    def visit(parent: str | None) -> None:
        for z in site.zones:
            if z.parent == parent:
                ordered.append(z.id)
                visit(z.id)

    visit(None)
    return tuple(ordered)
