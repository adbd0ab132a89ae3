"""Site model -> site file text (TOML), the inverse of `load`.

Rules:
- deterministic: sections in a fixed order (site, zones, meters, stations,
  cards, tou, digital_inputs), entries in site order, keys in a fixed order;
- round-trips: `parse(export(site)) == site` for every valid site, and
  export -> parse -> export is byte-identical;
- omits what is default *and* unremarkable (a zone's `tou = true`, an empty
  comment), but always writes what an installer checks (mode, vip, reporting,
  auth_disconnected, every [site] key);
- values are formatted by tomli_w; the layout (one `[[x]]` table per entry,
  connectors and short arrays inline) is ours, so the file reads like SPEC §8.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import tomli_w

from edgectl.core.site import (
    Card,
    DigitalInput,
    Meter,
    RemoteEnergyManagement,
    Site,
    Station,
    Tou,
    TouPeriod,
    Transport,
    Zone,
    ZoneMode,
)

HEADER = "# edgectl site file (reference: docs/site-file.md)\n"

Pairs = list[tuple[str, Any]]


def export_site(site: Site) -> str:
    chunks = [HEADER, _table("site", _settings(site))]
    if site.settings.remote_energy != RemoteEnergyManagement():
        chunks.append(_table("site.remote_energy", _remote(site.settings.remote_energy)))
    chunks += [_array_table("zones", _zone(z)) for z in site.zones]
    chunks += [_array_table("meters", _meter(m)) for m in site.meters]
    chunks += [_array_table("stations", _station(s)) for s in site.stations]
    chunks += [_array_table("cards", _card(c)) for c in site.cards]
    if site.tou != Tou():
        chunks.append(_table("tou", [("enabled", site.tou.enabled)]))
        chunks += [_array_table("tou.periods", _period(p)) for p in site.tou.periods]
    chunks += [_array_table("digital_inputs", _input(d)) for d in site.digital_inputs]
    return "\n".join(chunks)


def _settings(site: Site) -> Pairs:
    s = site.settings
    return [
        ("name", s.name),
        ("timezone", s.timezone),
        ("min_current", s.min_current.value),
        ("shedding_priority", s.shedding_priority.value),
        ("rotation_minutes", s.rotation_minutes),
        ("consumption_optimisation", s.consumption_optimisation),
        ("auto_register", s.auto_register),
    ]


def _remote(r: RemoteEnergyManagement) -> Pairs:
    return [
        ("enabled", r.enabled),
        *_if("login", r.login, r.login is not None),
        ("min_update_period_s", r.min_update_period_s),
        ("heartbeat_s", r.heartbeat_s),
        ("time_sync", r.time_sync),
    ]


def _zone(z: Zone) -> Pairs:
    dynamic = z.mode is ZoneMode.DYNAMIC
    return [
        ("id", z.id),
        ("name", z.name),
        *_if("parent", z.parent, z.parent is not None),
        ("max_current", z.max_current_a),
        ("mode", z.mode.value),
        *_if("meter", z.meter, z.meter is not None),
        *_if("degraded_current", z.degraded_current_a, dynamic),
        *_if("auth_mode", z.auth_mode and z.auth_mode.value, z.auth_mode is not None),
        *_if("tou", False, not z.tou_enabled),
    ]


def _meter(m: Meter) -> Pairs:
    tcp = m.transport is Transport.TCP
    return [
        ("id", m.id),
        *_if("name", m.name, bool(m.name)),
        ("model", m.model),
        ("transport", m.transport.value),
        *_if("host", m.host, tcp and m.host is not None),
        *_if("port", m.port, tcp),
        *_if("serial_port", m.serial_port, not tcp and m.serial_port is not None),
        *_if("baudrate", m.baudrate, not tcp),
        *_if("parity", m.parity, not tcp),
        *_if("stopbits", m.stopbits, not tcp),
        ("unit_id", m.unit_id),
        ("reporting", m.reporting),
    ]


def _station(s: Station) -> Pairs:
    connectors = [
        {"id": c.id, "wiring": c.wiring.value, "max_current": c.max_current_a, "socket": c.socket} for c in s.connectors
    ]
    return [
        ("id", s.id),
        ("name", s.name),
        ("model", s.model),
        ("zone", s.zone),
        ("vip", s.vip),
        *_if("auth_mode", s.auth_mode and s.auth_mode.value, s.auth_mode is not None),
        ("auth_disconnected", s.auth_disconnected.value),
        *_if("serial", s.serial, bool(s.serial)),
        *_if("password", s.password, s.password is not None),
        ("connectors", _Multiline(connectors)),
    ]


def _card(c: Card) -> Pairs:
    return [
        ("id_tag", c.id_tag),
        ("vip", c.vip),
        ("authorized", c.authorized),
        *_if("comment", c.comment, bool(c.comment)),
        *_if("zones", c.zones, c.zones is not None),
        *_if("registered", c.registered, c.registered is not None),
        *_if("last_seen", c.last_seen, c.last_seen is not None),
        *_if("valid_from", c.valid_from, c.valid_from is not None),
        *_if("valid_to", c.valid_to, c.valid_to is not None),
    ]


def _period(p: TouPeriod) -> Pairs:
    return [
        ("name", p.name),
        ("enabled", p.enabled),
        ("percent", p.percent),
        ("days", p.days),
        ("slots", [[s.start.strftime("%H:%M"), s.end.strftime("%H:%M")] for s in p.slots]),
        *_if("zones", p.zones, p.zones is not None),
    ]


def _input(d: DigitalInput) -> Pairs:
    return [("channel", d.channel), ("name", d.name), ("enabled", d.enabled), ("percent", d.percent)]


class _Multiline(list[Any]):
    """An array written one item per line (connectors)."""


def _if(key: str, value: Any, condition: bool) -> Pairs:
    return [(key, value)] if condition else []


def _table(name: str, pairs: Pairs) -> str:
    return f"[{name}]\n" + _lines(pairs)


def _array_table(name: str, pairs: Pairs) -> str:
    return f"[[{name}]]\n" + _lines(pairs)


def _lines(pairs: Iterable[tuple[str, Any]]) -> str:
    return "".join(f"{key} = {_literal(value)}\n" for key, value in pairs)


def _literal(value: Any) -> str:
    if isinstance(value, _Multiline):
        return "[\n" + "".join(f"  {_literal(item)},\n" for item in value) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_literal(v)}" for k, v in value.items()) + " }"
    if isinstance(value, datetime):
        moment: datetime = value
        offset = moment.utcoffset()
        if offset is None:
            moment = moment.replace(tzinfo=UTC)  # the model's datetimes are aware; never guess the host's zone
        elif offset.total_seconds() % 60:
            # TOML offsets have minute resolution; the instant is what matters.
            moment = moment.astimezone(UTC)
        return moment.isoformat()
    # Scalars (strings with their escapes, ints, bools, dates) as tomli_w writes them.
    text: str = tomli_w.dumps({"v": value})
    return text[len("v = ") : -1]
