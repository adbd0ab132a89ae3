"""Checks across site file entries: references, uniqueness, the zone tree.

Rules (SPEC §1, §8):
- ids are unique per kind (zones, stations, meters, TOU period names, DI
  channels); card id tags are unique ignoring case, as OCPP compares them;
- zones form a forest at most 3 levels deep, without cycles; a sub-zone's
  max_current may not exceed its parent's;
- a meter measures at most one zone; a reporting meter measures none;
- stations attach to leaf zones only;
- every zone named anywhere (parent, station, card, TOU period) exists;
- TOU: at most 5 periods and 20 timeslots in total.
A reference to an entry that is itself broken is not reported again: the
entry's own error is the one to fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from edgectl.core.site import MAX_TOU_PERIODS, MAX_TOU_SLOTS, MAX_ZONE_DEPTH, Meter, Zone
from edgectl.sitefile.errors import Issues
from edgectl.sitefile.parse import Draft, Entry


def check_draft(draft: Draft, issues: Issues) -> None:
    _unique(draft.zones, issues, "id", "zone id")
    _unique(draft.stations, issues, "id", "station identity")
    _unique(draft.meters, issues, "id", "meter id")
    _unique(draft.cards, issues, "id_tag", "card id tag", fold=lambda k: k.upper())
    _unique(draft.periods, issues, "name", "time-of-use period name")
    _unique(draft.inputs, issues, "channel", "digital input channel")
    _same_meter_device(draft, issues)

    zone_ids = {e.key for e in draft.zones if isinstance(e.key, str)}
    zones = _first_values(draft.zones)
    _check_tree(draft.zones, zones, zone_ids, issues)
    _check_zone_meters(draft, zones, issues)

    parents = {z.parent for z in zones.values() if z.parent is not None}
    for e in draft.stations:
        if e.value is None:
            continue
        zid = e.value.zone
        if zid not in zone_ids:
            issues.add(e.label, "zone", f'zone "{zid}" does not exist')
        elif zid in parents:
            issues.add(e.label, "zone", f'zone "{zid}" has sub-zones; stations attach to leaf zones only')
    for card in draft.cards:
        if card.value is not None:
            _zones_exist(card, card.value.zones, zone_ids, issues)

    total_slots = sum(len(p.value.slots) for p in draft.periods if p.value is not None)
    if len(draft.periods) > MAX_TOU_PERIODS:
        issues.add("[tou]", "periods", f"{len(draft.periods)} periods; at most {MAX_TOU_PERIODS}")
    if total_slots > MAX_TOU_SLOTS:
        issues.add("[tou]", "periods", f"{total_slots} timeslots in total; at most {MAX_TOU_SLOTS}")
    for period in draft.periods:
        if period.value is not None:
            _zones_exist(period, period.value.zones, zone_ids, issues)


def _unique(
    entries: Iterable[Entry[Any]], issues: Issues, field: str, what: str, fold: Callable[[Any], Any] = lambda k: k
) -> None:
    first: dict[Any, Entry[Any]] = {}
    for e in entries:
        if e.key is None or e.key == "" or isinstance(e.key, bool):
            continue
        key = fold(e.key) if isinstance(e.key, str) else e.key
        if key in first:
            shown = f'"{e.key}"' if isinstance(e.key, str) else str(e.key)
            issues.add(e.label, field, f"{what} {shown} is already used by {first[key].label}")
        else:
            first[key] = e


def _first_values(entries: Iterable[Entry[Zone]]) -> dict[str, Zone]:
    out: dict[str, Zone] = {}
    for e in entries:
        if e.value is not None and e.value.id not in out:
            out[e.value.id] = e.value
    return out


def _check_tree(entries: list[Entry[Zone]], zones: dict[str, Zone], zone_ids: set[str], issues: Issues) -> None:
    for e in entries:
        z = e.value
        if z is None or zones.get(z.id) is not z:
            continue
        if z.parent is not None and z.parent not in zone_ids:
            issues.add(e.label, "parent", f'zone "{z.parent}" does not exist')
            continue
        path = [z.id]
        current = z.parent
        while current is not None and current in zones and current not in path:
            path.append(current)
            current = zones[current].parent
        if current is not None and current in path:
            # Reported by the zones on the cycle; a zone hanging below it only
            # inherits the problem.
            if path.index(current) == 0:
                issues.add(e.label, "parent", f"zones form a cycle: {' -> '.join([*path, current])}")
            continue
        if current is None and len(path) > MAX_ZONE_DEPTH:
            chain = " -> ".join(reversed(path))
            issues.add(
                e.label,
                "parent",
                f"zone would be on level {len(path)} ({chain}); zones nest at most {MAX_ZONE_DEPTH} levels",
            )
        parent = zones.get(z.parent) if z.parent is not None else None
        if parent is not None and z.max_current_a > parent.max_current_a:
            issues.add(
                e.label,
                "max_current",
                f'{z.max_current_a} A is above its parent zone "{parent.id}"\'s max_current {parent.max_current_a} A',
            )


def _check_zone_meters(draft: Draft, zones: dict[str, Zone], issues: Issues) -> None:
    meter_ids = {e.key for e in draft.meters if isinstance(e.key, str)}
    meters: dict[str, Meter] = {}
    for m in draft.meters:
        if m.value is not None:
            meters.setdefault(m.value.id, m.value)
    measured_by: dict[str, str] = {}
    for e in draft.zones:
        z = e.value
        if z is None or z.meter is None:
            continue
        if z.meter not in meter_ids:
            issues.add(e.label, "meter", f'meter "{z.meter}" does not exist')
        elif z.meter in meters and meters[z.meter].reporting:
            issues.add(
                e.label, "meter", f'meter "{z.meter}" is a reporting meter (reporting = true): it measures no zone'
            )
        elif z.meter in measured_by:
            issues.add(
                e.label,
                "meter",
                f'meter "{z.meter}" already measures zone "{measured_by[z.meter]}"; a meter belongs to one zone only',
            )
        else:
            measured_by[z.meter] = z.id


def _same_meter_device(draft: Draft, issues: Issues) -> None:
    # Two entries polling one device would count the same current twice.
    first: dict[tuple[Any, ...], str] = {}
    for e in draft.meters:
        m = e.value
        if m is None:
            continue
        address = (m.transport, m.host, m.port, m.serial_port, m.unit_id)
        if address in first:
            issues.add(e.label, "unit_id", f"polls the same device (address and unit id) as {first[address]}")
        else:
            first[address] = e.label


def _zones_exist(entry: Entry[Any], wanted: tuple[str, ...] | None, zone_ids: set[str], issues: Issues) -> None:
    for zid in wanted or ():
        if zid not in zone_ids:
            issues.add(entry.label, "zones", f'zone "{zid}" does not exist')
