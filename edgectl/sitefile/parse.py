"""Site file entries -> site model values, one entry at a time.

Rules:
- each `[[zones]]`, `[[meters]]`, `[[stations]]`, `[[cards]]`,
  `[[tou.periods]]`, `[[digital_inputs]]` entry is read on its own: the
  checks here only need that entry (types, enums, ranges, field combinations
  such as "a dynamic zone needs a meter"); checks across entries live in
  `edgectl.sitefile.checks`;
- an entry with any problem yields no model value (`Entry.value is None`) but
  keeps its declared id, so that references to it do not cascade into
  misleading "does not exist" errors;
- key names are the file format of SPEC §8 (`max_current`, not
  `max_current_a`): the file is for installers, the model for code.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from edgectl.core.site import (
    SOCKETS,
    WEEKDAYS,
    AuthMode,
    Card,
    Connector,
    DigitalInput,
    DisconnectedAuth,
    Meter,
    MinCurrentPolicy,
    RemoteEnergyManagement,
    SheddingPriority,
    SiteSettings,
    Station,
    StationModel,
    TouPeriod,
    TouSlot,
    Transport,
    Wiring,
    Zone,
    ZoneMode,
)
from edgectl.sitefile.errors import Issues
from edgectl.sitefile.reader import Table, type_name

T = TypeVar("T")

# fmt: off
TOP_KEYS = ("site", "zones", "meters", "stations", "cards", "tou", "digital_inputs")
SITE_KEYS = (
    "name", "timezone", "min_current", "shedding_priority", "rotation_minutes",
    "consumption_optimisation", "auto_register", "remote_energy",
)
REMOTE_KEYS = ("enabled", "login", "min_update_period_s", "heartbeat_s", "time_sync")
ZONE_KEYS = ("id", "name", "parent", "max_current", "mode", "meter", "degraded_current", "auth_mode", "tou")
METER_KEYS = (
    "id", "name", "model", "transport", "host", "port", "unit_id",
    "serial_port", "baudrate", "parity", "stopbits", "reporting",
)
METER_MODELS = ("pm5320", "iem3x5x", "powertag", "nsx", "nsx_legacy", "mtz")
TCP_ONLY = ("host", "port")
RTU_ONLY = ("serial_port", "baudrate", "parity", "stopbits")
STATION_KEYS = (
    "id", "name", "model", "zone", "vip", "auth_mode", "auth_disconnected", "serial", "password", "connectors",
)
CONNECTOR_KEYS = ("id", "wiring", "max_current", "socket")
CARD_KEYS = (
    "id_tag", "vip", "authorized", "comment", "zones", "registered", "last_seen", "valid_from", "valid_to",
)
TOU_KEYS = ("enabled", "periods")
PERIOD_KEYS = ("name", "percent", "days", "slots", "enabled", "zones")
DI_KEYS = ("channel", "name", "enabled", "percent")
# fmt: on

NAME_MAX_CHARS = 50  # display names and card comments (SPEC §1)
ID_TAG_MAX_CHARS = 20  # OCPP 1.6 IdToken is CiString20Type
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_URL_UNSAFE = set("/?#%")  # the identity is a path segment of the station's URL


@dataclass(slots=True)
class Entry(Generic[T]):
    label: str  # 'stations[3] (id "S04")'
    key: Any  # the declared id / id_tag / name / channel, even if the entry is broken
    value: T | None  # None: the entry has problems of its own


@dataclass(slots=True)
class Draft:
    """Everything read from the file, before the checks across entries."""

    settings: SiteSettings | None = None
    local_zone: ZoneInfo | None = None
    zones: list[Entry[Zone]] = field(default_factory=list)
    meters: list[Entry[Meter]] = field(default_factory=list)
    stations: list[Entry[Station]] = field(default_factory=list)
    cards: list[Entry[Card]] = field(default_factory=list)
    tou_enabled: bool = False
    tou_ok: bool = True
    periods: list[Entry[TouPeriod]] = field(default_factory=list)
    inputs: list[Entry[DigitalInput]] = field(default_factory=list)


def label(section: str, index: int, raw: object, key: str) -> str:
    value = raw.get(key) if isinstance(raw, dict) else None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        shown = f'"{value}"' if isinstance(value, str) else str(value)
        return f"{section}[{index}] ({key} {shown})"
    return f"{section}[{index}]"


def read_draft(doc: dict[str, Any], issues: Issues, models: Mapping[str, StationModel]) -> Draft:
    top = Table(doc, issues, "top level", TOP_KEYS)
    draft = Draft()
    draft.settings, draft.local_zone = read_settings(top.raw.get("site", {}), issues)
    draft.zones = [read_zone(r, issues, label("zones", i, r, "id")) for i, r in enumerate(top.table_list("zones"))]
    draft.meters = [read_meter(r, issues, label("meters", i, r, "id")) for i, r in enumerate(top.table_list("meters"))]
    draft.stations = [
        read_station(r, issues, label("stations", i, r, "id"), models) for i, r in enumerate(top.table_list("stations"))
    ]
    draft.cards = [
        read_card(r, issues, label("cards", i, r, "id_tag"), draft.local_zone)
        for i, r in enumerate(top.table_list("cards"))
    ]
    if "tou" in top.raw:
        tou = Table(top.raw["tou"], issues, "[tou]", TOU_KEYS)
        # A [tou] table is there to be used: enabled unless it says otherwise.
        draft.tou_enabled = tou.boolean("enabled", True)
        draft.periods = [
            read_period(r, issues, label("tou.periods", i, r, "name")) for i, r in enumerate(tou.table_list("periods"))
        ]
        draft.tou_ok = tou.ok
    draft.inputs = [
        read_input(r, issues, label("digital_inputs", i, r, "channel"))
        for i, r in enumerate(top.table_list("digital_inputs"))
    ]
    return draft


def read_settings(raw: object, issues: Issues) -> tuple[SiteSettings | None, ZoneInfo | None]:
    t = Table(raw, issues, "[site]", SITE_KEYS)
    d = SiteSettings()
    tz_name = t.string("timezone", d.timezone, non_empty=True)
    local_zone: ZoneInfo | None = None
    with contextlib.suppress(ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        local_zone = ZoneInfo(tz_name)
    if local_zone is None and tz_name.strip():
        t.fail("timezone", f'"{tz_name}" is not an IANA time zone (e.g. "Europe/Paris")')
    settings = dict(
        name=t.string("name", d.name, non_empty=True),
        timezone=tz_name,
        min_current=t.enum("min_current", MinCurrentPolicy, d.min_current),
        shedding_priority=t.enum("shedding_priority", SheddingPriority, d.shedding_priority),
        rotation_minutes=t.integer("rotation_minutes", d.rotation_minutes, low=1, high=1440),
        consumption_optimisation=t.boolean("consumption_optimisation", d.consumption_optimisation),
        auto_register=t.boolean("auto_register", d.auto_register),
    )
    remote = RemoteEnergyManagement()
    if "remote_energy" in t.raw:
        r = Table(t.raw["remote_energy"], issues, "[site.remote_energy]", REMOTE_KEYS)
        remote = RemoteEnergyManagement(
            enabled=r.boolean("enabled", remote.enabled),
            login=r.string("login", None, non_empty=True) if r.has("login") else None,
            min_update_period_s=r.integer("min_update_period_s", remote.min_update_period_s, low=1),
            heartbeat_s=r.integer("heartbeat_s", remote.heartbeat_s, low=1),
            time_sync=r.boolean("time_sync", remote.time_sync),
        )
        if remote.enabled and remote.login is None:
            r.fail("login", "remote energy management needs the webservices login allowed to set zone setpoints")
        if not r.ok:
            t.ok = False
    if not t.ok:
        return None, local_zone
    return SiteSettings(**settings, remote_energy=remote), local_zone


def _identity(t: Table, key: str, default: Any = None) -> Any:
    if default is None and not t.has(key):
        return None
    return t.string(key, default, identifier=True)


def read_zone(raw: object, issues: Issues, where: str) -> Entry[Zone]:
    t = Table(raw, issues, where, ZONE_KEYS)
    zid = t.string("id", identifier=True)
    zone = Zone(
        id=zid,
        name=t.string("name", non_empty=True, max_len=NAME_MAX_CHARS),
        max_current_a=t.integer("max_current", low=1),
        mode=t.enum("mode", ZoneMode, ZoneMode.STATIC),
        parent=_identity(t, "parent"),
        meter=_identity(t, "meter"),
        degraded_current_a=t.integer("degraded_current", 0, low=0),
        auth_mode=t.enum("auth_mode", AuthMode, None),
        tou_enabled=t.boolean("tou", True),
    )
    if zone.mode is ZoneMode.DYNAMIC and zone.meter is None and not t.has("meter"):
        t.fail("meter", "missing: a dynamic zone needs the meter that measures it")
    if zone.mode is ZoneMode.STATIC and t.has("meter"):
        t.fail("meter", 'a static zone has no meter (set mode = "dynamic", or remove the meter)')
    if zone.mode is ZoneMode.STATIC and t.has("degraded_current"):
        t.fail("degraded_current", "only a dynamic zone has a degraded current (a static zone always uses max_current)")
    if zone.degraded_current_a > zone.max_current_a > 0:
        t.fail(
            "degraded_current", f"{zone.degraded_current_a} A is above the zone's max_current {zone.max_current_a} A"
        )
    return Entry(where, zid, zone if t.ok else None)


def read_meter(raw: object, issues: Issues, where: str) -> Entry[Meter]:
    t = Table(raw, issues, where, METER_KEYS)
    d = Meter(id="", model="")
    mid = t.string("id", identifier=True)
    model = t.string("model", non_empty=True)
    if model and model not in METER_MODELS and not (model.startswith("custom:") and model[7:].strip()):
        t.fail("model", f'"{model}" is not one of {", ".join(METER_MODELS)} or custom:<name>')
    transport = t.enum("transport", Transport, Transport.TCP)
    wrong = RTU_ONLY if transport is Transport.TCP else TCP_ONLY if transport is Transport.RTU else ()
    for key in wrong:
        if t.has(key):
            t.fail(key, f'not used by a {transport.value} meter (transport = "{transport.value}")')
    meter = Meter(
        id=mid,
        model=model,
        transport=transport,
        name=t.string("name", d.name, max_len=NAME_MAX_CHARS),
        host=t.string("host", None, non_empty=True) if transport is Transport.TCP else None,
        port=t.integer("port", d.port, low=1, high=65535) if transport is Transport.TCP else d.port,
        unit_id=t.integer("unit_id", d.unit_id, low=1, high=255),
        serial_port=t.string("serial_port", None, non_empty=True) if transport is Transport.RTU else None,
        baudrate=t.integer("baudrate", d.baudrate, low=300, high=921600) if transport is Transport.RTU else d.baudrate,
        parity=t.choice("parity", ("N", "E", "O"), d.parity) if transport is Transport.RTU else d.parity,
        stopbits=t.integer("stopbits", d.stopbits, low=1, high=2) if transport is Transport.RTU else d.stopbits,
        reporting=t.boolean("reporting", d.reporting),
    )
    if transport is Transport.TCP and meter.host is None:
        t.fail("host", "missing: a tcp meter needs the host (address) to poll")
    if transport is Transport.RTU and meter.serial_port is None:
        t.fail("serial_port", "missing: an rtu meter needs the serial device (e.g. /dev/ttyUSB0)")
    return Entry(where, mid, meter if t.ok else None)


def read_station(raw: object, issues: Issues, where: str, models: Mapping[str, StationModel]) -> Entry[Station]:
    t = Table(raw, issues, where, STATION_KEYS)
    sid = t.string("id", identifier=True)
    unsafe = sorted(set(sid) & _URL_UNSAFE)
    if unsafe:
        t.fail("id", f'"{sid}" must not contain {" ".join(unsafe)} (it is part of the station\'s OCPP URL)')
    model_id = t.string("model", non_empty=True)
    model = models.get(model_id)
    if model is None and model_id.strip():
        t.fail("model", f'"{model_id}" is not a known station model ({", ".join(sorted(models))})')
    connectors = []
    seen_ids: set[int] = set()
    raw_connectors = t.array("connectors", "an array of tables") if t.has("connectors") else None
    if raw_connectors is None:
        t.fail("connectors", "missing (required): a station has at least one connector")
        raw_connectors = []
    elif not raw_connectors and t.ok:
        t.fail("connectors", "must list at least one connector")
    for j, raw_c in enumerate(raw_connectors):
        c = Table(raw_c, issues, where, CONNECTOR_KEYS, prefix=f"connectors[{j}].")
        conn = Connector(
            id=c.integer("id", low=1),
            wiring=c.enum("wiring", Wiring),
            max_current_a=c.integer("max_current", low=1),
            socket=c.choice("socket", SOCKETS, "T2"),
        )
        if conn.id in seen_ids:
            c.fail("id", f"connector id {conn.id} is used twice in this station")
        seen_ids.add(conn.id)
        t.ok = t.ok and c.ok
        connectors.append(conn)
    if model is not None and len(raw_connectors) > model.max_connectors:
        t.fail(
            "connectors",
            f"{len(raw_connectors)} connectors, but model {model.id} has at most {model.max_connectors}",
        )
    station = Station(
        id=sid,
        name=t.string("name", non_empty=True, max_len=NAME_MAX_CHARS),
        model=model_id,
        zone=t.string("zone", identifier=True),
        connectors=tuple(connectors),
        vip=t.boolean("vip", False),
        auth_mode=t.enum("auth_mode", AuthMode, None),
        auth_disconnected=t.enum("auth_disconnected", DisconnectedAuth, DisconnectedAuth.USE_CACHE),
        serial=t.string("serial", ""),
        password=t.string("password", None, non_empty=True) if t.has("password") else None,
    )
    return Entry(where, sid, station if t.ok else None)


def read_card(raw: object, issues: Issues, where: str, local_zone: ZoneInfo | None) -> Entry[Card]:
    t = Table(raw, issues, where, CARD_KEYS)
    id_tag = t.string("id_tag", identifier=True, max_len=ID_TAG_MAX_CHARS)
    zones = t.string_list("zones", None, non_empty=True) if t.has("zones") else None
    card = Card(
        id_tag=id_tag,
        vip=t.boolean("vip", False),
        authorized=t.boolean("authorized", True),
        comment=t.string("comment", "", max_len=NAME_MAX_CHARS),
        zones=zones,
        registered=t.date_value("registered"),
        last_seen=t.datetime_value("last_seen", local_zone),
        valid_from=t.datetime_value("valid_from", local_zone),
        valid_to=t.datetime_value("valid_to", local_zone),
    )
    if card.valid_from is not None and card.valid_to is not None and card.valid_from >= card.valid_to:
        t.fail("valid_to", f"{card.valid_to.isoformat()} is not after valid_from {card.valid_from.isoformat()}")
    return Entry(where, id_tag, card if t.ok else None)


def _slot(t: Table, index: int, raw: object) -> TouSlot | None:
    key = f"slots[{index}]"
    if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, str) for v in raw)):
        t.fail(key, f'must be a pair of "HH:MM" strings like ["08:00", "12:00"], not {type_name(raw)}')
        return None
    bounds: list[time] = []
    for value in raw:
        m = _HHMM.match(value)
        if m is None:
            hint = ' (write "00:00" for midnight)' if value == "24:00" else ""
            t.fail(key, f'"{value}" is not a time of day HH:MM{hint}')
            return None
        bounds.append(time(int(m.group(1)), int(m.group(2))))
    return TouSlot(bounds[0], bounds[1])


def read_period(raw: object, issues: Issues, where: str) -> Entry[TouPeriod]:
    t = Table(raw, issues, where, PERIOD_KEYS)
    name = t.string("name", non_empty=True, max_len=NAME_MAX_CHARS)
    days = t.string_list("days", non_empty=True)
    for day in days:
        if day not in WEEKDAYS:
            t.fail("days", f'"{day}" is not one of {", ".join(WEEKDAYS)}')
    raw_slots = t.array("slots") if t.has("slots") else None
    if raw_slots is None:
        t.fail("slots", "missing (required): a period has at least one timeslot")
    elif not raw_slots and t.ok:
        t.fail("slots", "must list at least one timeslot")
    slots = [_slot(t, i, s) for i, s in enumerate(raw_slots or [])]
    period = TouPeriod(
        name=name,
        percent=t.integer("percent", low=0, high=100),
        days=days,
        slots=tuple(s for s in slots if s is not None),
        enabled=t.boolean("enabled", True),
        zones=t.string_list("zones", None, non_empty=True) if t.has("zones") else None,
    )
    return Entry(where, name, period if t.ok else None)


def read_input(raw: object, issues: Issues, where: str) -> Entry[DigitalInput]:
    t = Table(raw, issues, where, DI_KEYS)
    di = DigitalInput(
        channel=t.integer("channel", low=1, high=3),
        name=t.string("name", non_empty=True, max_len=NAME_MAX_CHARS),
        enabled=t.boolean("enabled", True),
        percent=t.integer("percent", 100, low=0, high=100),
    )
    return Entry(where, di.channel, di if t.ok else None)
