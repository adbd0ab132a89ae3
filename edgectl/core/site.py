"""The site model: zones, stations, connectors, meters, cards, TOU, inputs.

These are plain immutable values. Parsing and validating a site file lives in
`edgectl.sitefile`; this module only states what a valid site *is* and the
derived facts the allocator needs (wiring maps, zone paths).

Units: every current is amps per phase (`*_a`), every duration seconds (`*_s`)
unless the name says otherwise (`rotation_minutes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from edgectl.core.phases import Phases

MAX_ZONE_DEPTH = 3
MAX_TOU_PERIODS = 5
MAX_TOU_SLOTS = 20
DI_CHANNELS = (1, 2, 3)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Wiring(StrEnum):
    """How a connector's station-side phases land on the grid's phases.

    The digits name the grid phase on each station terminal in order:
    TRI231 = station L1 -> grid L2, station L2 -> grid L3, station L3 -> grid L1.
    MONOn = a single-phase connector on grid Ln (its only terminal is station L1).
    """

    TRI123 = "TRI123"
    TRI231 = "TRI231"
    TRI312 = "TRI312"
    MONO1 = "MONO1"
    MONO2 = "MONO2"
    MONO3 = "MONO3"

    @property
    def three_phase(self) -> bool:
        return self.value.startswith("TRI")

    @property
    def grid_of_station_phase(self) -> tuple[int, ...]:
        """Grid phase index (0..2) of each station terminal (0..2 or just 0)."""
        digits = self.value[3:] if self.three_phase else self.value[4:]
        return tuple(int(d) - 1 for d in digits)

    @property
    def grid_phases_used(self) -> tuple[bool, bool, bool]:
        used = [False, False, False]
        for grid in self.grid_of_station_phase:
            used[grid] = True
        return (used[0], used[1], used[2])

    def load(self, setpoint_a: float) -> Phases:
        """Grid load of a setpoint (per phase) on this connector."""
        u = self.grid_phases_used
        return Phases(setpoint_a if u[0] else 0.0, setpoint_a if u[1] else 0.0, setpoint_a if u[2] else 0.0)

    def to_grid(self, station_currents_a: Phases) -> Phases:
        """Map currents reported per station terminal onto grid phases."""
        grid = [0.0, 0.0, 0.0]
        for station_phase, grid_phase in enumerate(self.grid_of_station_phase):
            grid[grid_phase] += station_currents_a[station_phase]
        return Phases(grid[0], grid[1], grid[2])


class ZoneMode(StrEnum):
    STATIC = "static"
    DYNAMIC = "dynamic"


class AuthMode(StrEnum):
    ALL_CARDS = "all_cards"
    KNOWN_CARDS = "known_cards"
    DISABLED = "disabled"  # RFID reader disabled: free charging


class DisconnectedAuth(StrEnum):
    ACCEPT_ALL = "accept_all"
    REJECT_ALL = "reject_all"
    USE_CACHE = "use_cache"


class MinCurrentPolicy(StrEnum):
    IEC61851 = "iec61851"  # 6 A single- and three-phase
    EVZE = "evze"  # 8 A single-phase, 14 A three-phase


class SheddingPriority(StrEnum):
    ENERGY = "energy"  # least energy delivered in the session first
    DURATION = "duration"  # shortest charging time first


class Transport(StrEnum):
    TCP = "tcp"
    RTU = "rtu"


SOCKETS = ("T2", "T2S", "TE", "T2/TE", "T1", "T3", "CCS", "CHAdeMO")


@dataclass(frozen=True, slots=True)
class StationModel:
    """What the allocator needs to know about a station model (data-driven).

    `min_current_a` overrides the site policy for every connector of the model
    (EVlink City: 14 A); `socket_min_current_a` does so per socket type
    (TE/domestic: 10 A). The larger of policy and exception applies, because a
    car will not charge below either.
    """

    id: str
    name: str
    dc: bool = False
    min_current_a: int | None = None
    socket_min_current_a: Mapping[str, int] = field(default_factory=dict)
    max_connectors: int = 2


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    name: str
    max_current_a: int
    mode: ZoneMode = ZoneMode.STATIC
    parent: str | None = None
    meter: str | None = None
    degraded_current_a: int = 0
    auth_mode: AuthMode | None = None  # None: inherit (root default known_cards)
    tou_enabled: bool = True  # time-of-use may be disabled per zone


@dataclass(frozen=True, slots=True)
class Connector:
    id: int
    wiring: Wiring
    max_current_a: int
    socket: str = "T2"


@dataclass(frozen=True, slots=True)
class Station:
    id: str  # charge-box identity
    name: str
    model: str
    zone: str
    connectors: tuple[Connector, ...]
    vip: bool = False
    auth_mode: AuthMode | None = None  # None: the zone's
    auth_disconnected: DisconnectedAuth = DisconnectedAuth.USE_CACHE
    serial: str = ""
    password: str | None = None  # OCPP security profile 1/2 basic-auth secret


@dataclass(frozen=True, slots=True)
class Meter:
    id: str
    model: str  # pm5320 | iem3x5x | powertag | nsx | nsx_legacy | mtz | custom:<name>
    transport: Transport = Transport.TCP
    name: str = ""
    host: str | None = None
    port: int = 502
    unit_id: int = 255
    serial_port: str | None = None
    baudrate: int = 19200
    parity: str = "E"  # N | E | O
    stopbits: int = 1
    reporting: bool = False  # a "power outlet": measured and shown only


@dataclass(frozen=True, slots=True)
class Card:
    id_tag: str
    vip: bool = False
    authorized: bool = True
    comment: str = ""
    zones: tuple[str, ...] | None = None  # None: every zone
    registered: date | None = None
    last_seen: datetime | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class TouSlot:
    start: time
    end: time  # end <= start: the slot runs past midnight into the next day


@dataclass(frozen=True, slots=True)
class TouPeriod:
    name: str
    percent: int  # share of max_current that stays allowed
    days: tuple[str, ...]
    slots: tuple[TouSlot, ...]
    enabled: bool = True
    zones: tuple[str, ...] | None = None  # None: every zone


@dataclass(frozen=True, slots=True)
class Tou:
    enabled: bool = False
    periods: tuple[TouPeriod, ...] = ()


@dataclass(frozen=True, slots=True)
class DigitalInput:
    channel: int
    name: str
    enabled: bool = True
    percent: int = 100


@dataclass(frozen=True, slots=True)
class RemoteEnergyManagement:
    """A designated webservices login may cap zones through the REST API."""

    enabled: bool = False
    login: str | None = None
    min_update_period_s: int = 60
    heartbeat_s: int = 600
    time_sync: bool = False


@dataclass(frozen=True, slots=True)
class SiteSettings:
    name: str = "edgectl site"
    timezone: str = "UTC"
    min_current: MinCurrentPolicy = MinCurrentPolicy.IEC61851
    shedding_priority: SheddingPriority = SheddingPriority.ENERGY
    rotation_minutes: int = 15
    consumption_optimisation: bool = False
    auto_register: bool = False
    remote_energy: RemoteEnergyManagement = field(default_factory=RemoteEnergyManagement)


@dataclass(frozen=True, slots=True)
class Site:
    settings: SiteSettings = field(default_factory=SiteSettings)
    zones: tuple[Zone, ...] = ()
    stations: tuple[Station, ...] = ()
    meters: tuple[Meter, ...] = ()
    cards: tuple[Card, ...] = ()
    tou: Tou = field(default_factory=Tou)
    digital_inputs: tuple[DigitalInput, ...] = ()

    def zone(self, zone_id: str) -> Zone:
        for z in self.zones:
            if z.id == zone_id:
                return z
        raise KeyError(zone_id)

    def zone_path(self, zone_id: str) -> tuple[str, ...]:
        """Zone ids from `zone_id` up to its root (inclusive both ends)."""
        by_id = {z.id: z for z in self.zones}
        path: list[str] = []
        current: str | None = zone_id
        while current is not None:
            path.append(current)
            current = by_id[current].parent
        return tuple(path)

    def children(self, zone_id: str | None) -> tuple[Zone, ...]:
        return tuple(z for z in self.zones if z.parent == zone_id)

    def is_leaf(self, zone_id: str) -> bool:
        return not any(z.parent == zone_id for z in self.zones)

    def card(self, id_tag: str) -> Card | None:
        folded = id_tag.upper()
        for c in self.cards:
            if c.id_tag.upper() == folded:
                return c
        return None


def connector_min_current_a(policy: MinCurrentPolicy, model: StationModel | None, connector: Connector) -> int:
    """The current below which an EV on this connector will not charge."""
    if policy is MinCurrentPolicy.IEC61851:
        base = 6
    else:
        base = 14 if connector.wiring.three_phase else 8
    exceptions = [base]
    if model is not None:
        if model.min_current_a is not None:
            exceptions.append(model.min_current_a)
        socket_min = model.socket_min_current_a.get(connector.socket)
        if socket_min is not None:
            exceptions.append(socket_min)
    if connector.socket in ("TE", "T2/TE"):
        exceptions.append(10)  # domestic socket: 10 A whatever the model says
    return min(max(exceptions), connector.max_current_a) if connector.max_current_a > 0 else max(exceptions)
