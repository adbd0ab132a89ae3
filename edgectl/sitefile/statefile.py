"""The JSON state file of `edgectl plan` (SPEC §8) -> `Snapshot`.

Rules:
- the site's situation at one instant: `time` (ISO-8601 with a UTC offset)
  is required; an absent meter is lost, an absent station offline, an absent
  input inactive, an absent remote setpoint caps nothing (as in `Snapshot`);
- meter `current` lists are per grid phase of the meter (3 values); a
  connector's `current` list is per *station-side* phase, as the station
  reports it (1 to 3 values, missing phases are 0 A);
- strict like the site file: unknown keys, duplicate keys, ids that the site
  does not have and statuses that OCPP 1.6 does not define are refused, every
  problem named (file, entry, field) and reported together.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from edgectl.core.phases import Phases
from edgectl.core.site import Site
from edgectl.core.snapshot import ConnectorObservation, MeterReading, Snapshot, StationObservation
from edgectl.sitefile.errors import Issue, Issues, SiteFileError
from edgectl.sitefile.reader import Table, type_name

# OCPP 1.6 ChargePointStatus, in the order of the specification.
OCPP_STATUSES = (
    "Available",
    "Preparing",
    "Charging",
    "SuspendedEVSE",
    "SuspendedEV",
    "Finishing",
    "Reserved",
    "Unavailable",
    "Faulted",
)
TOP_KEYS = ("time", "meters", "digital_inputs", "remote_setpoints", "stations")
METER_KEYS = ("current", "power_w", "energy_wh", "sampled_at")
STATION_KEYS = ("online", "connectors")
CONNECTOR_KEYS = (
    "status",
    "id_tag",
    "transaction_id",
    "started",
    "energy_wh",
    "charging_s",
    "current",
    "car_max_a",
)


def load_state_file(path: Path, site: Site) -> Snapshot:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteFileError(source, [Issue("file", None, f"cannot be read: {exc}")]) from exc
    return load_state(text, source, site)


def load_state(text: str, source: str, site: Site) -> Snapshot:
    issues = Issues(source)
    duplicates: list[str] = []

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        doc = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise SiteFileError(source, [Issue("file", None, f"not valid JSON: {exc}")]) from exc
    for key in duplicates:
        issues.add("file", key, "appears twice in the same object")
    snapshot = _snapshot(doc, issues, site)
    issues.raise_if_any()
    assert snapshot is not None
    return snapshot


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _snapshot(doc: Any, issues: Issues, site: Site) -> Snapshot | None:
    if not isinstance(doc, dict):
        issues.add("top level", None, f"must be a JSON object, not {type_name(doc)}")
        return None
    top = Table(doc, issues, "top level", TOP_KEYS)
    now = _instant(top, "time", required=True)
    meters = _meters(top, issues, site)
    inputs = _inputs(top, issues, site)
    remote = _remote(top, issues, site)
    stations = _stations(top, issues, site, now)
    if issues or now is None:
        return None
    return Snapshot(time=now, meters=meters, digital_inputs=inputs, remote_setpoints_a=remote, stations=stations)


def _instant(t: Table, key: str, *, required: bool = False) -> datetime | None:
    if not t.has(key):
        if required:
            t.fail(key, 'missing (required): the instant to plan for, e.g. "2026-11-23T09:30:00+01:00"')
        return None
    value = t.raw[key]
    if not isinstance(value, str):
        t.fail(key, f"must be an ISO-8601 date-time string, not {type_name(value)}")
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        t.fail(key, f'"{value}" is not an ISO-8601 date-time')
        return None
    if moment.tzinfo is None:
        t.fail(key, f'"{value}" has no UTC offset (write e.g. "{value}+01:00" or "{value}Z")')
        return None
    return moment


def _number(t: Table, key: str) -> float | None:
    if not t.has(key):
        return None
    value = t.raw[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        t.fail(key, f"must be a number, not {type_name(value)}")
        return None
    if value < 0:
        t.fail(key, f"{value} is negative")
        return None
    return float(value)


def _phases(t: Table, key: str, sizes: tuple[int, ...], what: str) -> Phases | None:
    if not t.has(key):
        return None
    value = t.raw[key]
    ok = isinstance(value, list) and len(value) in sizes
    ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    if not ok:
        t.fail(key, f"must be {what}, not {json.dumps(value)}")
        return None
    if any(v < 0 for v in value):
        t.fail(key, f"{json.dumps(value)} has a negative current")
        return None
    amps = [float(v) for v in value] + [0.0] * (3 - len(value))
    return Phases(amps[0], amps[1], amps[2])


def _mapping(top: Table, key: str) -> dict[str, Any]:
    if not top.has(key):
        return {}
    value = top.raw[key]
    if not isinstance(value, dict):
        top.fail(key, f"must be an object, not {type_name(value)}")
        return {}
    return value


def _meters(top: Table, issues: Issues, site: Site) -> dict[str, MeterReading]:
    known = {m.id for m in site.meters}
    out: dict[str, MeterReading] = {}
    for meter_id, raw in _mapping(top, "meters").items():
        where = f'meters."{meter_id}"'
        if meter_id not in known:
            issues.add(where, None, f'the site has no meter "{meter_id}" (meters: {", ".join(sorted(known))})')
            continue
        t = Table(raw, issues, where, METER_KEYS)
        current = _phases(t, "current", (3,), "3 currents in A, one per grid phase")
        if current is None and t.ok:
            t.fail("current", "missing (required): 3 currents in A, one per grid phase")
        reading_at = _instant(t, "sampled_at")
        power, energy = _number(t, "power_w"), _number(t, "energy_wh")
        if t.ok and current is not None:
            out[meter_id] = MeterReading(current_a=current, sampled_at=reading_at, power_w=power, energy_wh=energy)
    return out


def _inputs(top: Table, issues: Issues, site: Site) -> dict[int, bool]:
    known = {d.channel for d in site.digital_inputs}
    out: dict[int, bool] = {}
    for key, value in _mapping(top, "digital_inputs").items():
        channel = int(key) if key.isdigit() else None
        if channel is None or channel not in known:
            shown = ", ".join(str(c) for c in sorted(known)) or "none"
            issues.add("digital_inputs", key, f"the site has no digital input {key!r} (channels: {shown})")
        elif not isinstance(value, bool):
            issues.add("digital_inputs", key, f"must be true (active) or false, not {type_name(value)}")
        else:
            out[channel] = value
    return out


def _remote(top: Table, issues: Issues, site: Site) -> dict[str, float]:
    known = {z.id for z in site.zones}
    out: dict[str, float] = {}
    for zone_id, value in _mapping(top, "remote_setpoints").items():
        if zone_id not in known:
            issues.add("remote_setpoints", zone_id, f'the site has no zone "{zone_id}"')
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            issues.add("remote_setpoints", zone_id, f"must be a current in A (>= 0), not {json.dumps(value)}")
        else:
            out[zone_id] = float(value)
    return out


def _stations(top: Table, issues: Issues, site: Site, now: datetime | None) -> dict[str, StationObservation]:
    stations = {s.id: s for s in site.stations}
    out: dict[str, StationObservation] = {}
    for station_id, raw in _mapping(top, "stations").items():
        where = f'stations."{station_id}"'
        station = stations.get(station_id)
        if station is None:
            issues.add(where, None, f'the site has no station "{station_id}"')
            continue
        t = Table(raw, issues, where, STATION_KEYS)
        online = t.boolean("online", True)
        connectors: dict[int, ConnectorObservation] = {}
        known = {c.id for c in station.connectors}
        for key, raw_c in _mapping(t, "connectors").items():
            cwhere = f'{where}.connectors."{key}"'
            if not key.isdigit() or int(key) not in known:
                shown = ", ".join(str(c) for c in sorted(known))
                issues.add(cwhere, None, f"station {station_id} has no connector {key!r} (connectors: {shown})")
                continue
            observation = _connector(Table(raw_c, issues, cwhere, CONNECTOR_KEYS), now)
            if observation is not None:
                connectors[int(key)] = observation
            t.ok = t.ok and observation is not None
        if t.ok:
            out[station_id] = StationObservation(online=online, connectors=connectors)
    return out


def _connector(t: Table, now: datetime | None) -> ConnectorObservation | None:
    status = t.choice("status", OCPP_STATUSES, "Available")
    id_tag = t.string("id_tag", None, non_empty=True) if t.has("id_tag") else None
    transaction_id = t.integer("transaction_id", None, low=0) if t.has("transaction_id") else None
    started = _instant(t, "started")
    if started is not None and now is not None and started > now:
        t.fail("started", f"{started.isoformat()} is after the state's time {now.isoformat()}")
    energy_wh = _number(t, "energy_wh")
    charging_s = _number(t, "charging_s")
    current = _phases(t, "current", (1, 2, 3), "1 to 3 currents in A, per station-side phase (L1, L2, L3)")
    car_max_a = _number(t, "car_max_a")
    if not t.ok:
        return None
    return ConnectorObservation(
        status=status,
        id_tag=id_tag,
        transaction_id=transaction_id,
        started=started,
        energy_wh=energy_wh or 0.0,
        charging_s=charging_s,
        current_a=current,
        car_max_a=car_max_a,
    )
