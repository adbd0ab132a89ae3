"""Terse builders for core tests: sites, snapshots, one allocation call.

Tests read like the SPEC's worked examples: a few zones, a few stations, who
is charging with how much energy, and the setpoints that must come out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta

from edgectl.core.engine import allocate
from edgectl.core.phases import Phases
from edgectl.core.result import Allocation, ConnectorResult, ZoneResult
from edgectl.core.site import (
    Card,
    Connector,
    DigitalInput,
    MinCurrentPolicy,
    SheddingPriority,
    Site,
    SiteSettings,
    Station,
    Tou,
    TouPeriod,
    TouSlot,
    Wiring,
    Zone,
    ZoneMode,
)
from edgectl.core.snapshot import ConnectorObservation, MeterReading, Snapshot, StationObservation
from edgectl.core.state import AllocatorParams, AllocatorState
from edgectl.core.topology import ConnectorKey, Topology, compile_site
from edgectl.stationmodels import catalogue

T0 = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # a Monday


def zone(
    zid: str,
    max_a: int,
    *,
    parent: str | None = None,
    meter: str | None = None,
    degraded_a: int = 0,
    tou: bool = True,
) -> Zone:
    mode = ZoneMode.DYNAMIC if meter else ZoneMode.STATIC
    return Zone(zid, zid, max_a, mode, parent, meter, degraded_a, tou_enabled=tou)


def conn(cid: int = 1, wiring: str = "TRI123", max_a: int = 32, socket: str = "T2") -> Connector:
    return Connector(cid, Wiring(wiring), max_a, socket)


def station(sid: str, zid: str, *conns: Connector, model: str = "generic_ac", vip: bool = False) -> Station:
    return Station(sid, sid, model, zid, conns or (conn(),), vip=vip)


def site(
    zones: Iterable[Zone],
    stations: Iterable[Station],
    *,
    policy: str = "iec61851",
    priority: str = "energy",
    rotation_minutes: int = 15,
    timezone: str = "UTC",
    cards: Iterable[Card] = (),
    tou: Tou | None = None,
    inputs: Iterable[DigitalInput] = (),
) -> Site:
    settings = SiteSettings(
        timezone=timezone,
        min_current=MinCurrentPolicy(policy),
        shedding_priority=SheddingPriority(priority),
        rotation_minutes=rotation_minutes,
    )
    return Site(settings, tuple(zones), tuple(stations), (), tuple(cards), tou or Tou(), tuple(inputs))


def period(
    name: str,
    percent: int,
    slots: Iterable[tuple[str, str]],
    days: Iterable[str] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
    zones: Iterable[str] | None = None,
    enabled: bool = True,
) -> TouPeriod:
    return TouPeriod(
        name,
        percent,
        tuple(days),
        tuple(TouSlot(time.fromisoformat(a), time.fromisoformat(b)) for a, b in slots),
        enabled,
        None if zones is None else tuple(zones),
    )


def charging(
    energy_wh: float = 0.0,
    *,
    id_tag: str | None = None,
    started: datetime | None = None,
    charging_s: float | None = None,
    current: tuple[float, float, float] | None = None,
    status: str = "Charging",
) -> ConnectorObservation:
    return ConnectorObservation(
        status=status,
        id_tag=id_tag,
        transaction_id=1,
        started=started,
        energy_wh=energy_wh,
        charging_s=charging_s,
        current_a=None if current is None else Phases(*current),
    )


IDLE = ConnectorObservation(status="Available")

Obs = ConnectorObservation | float | None  # a float is shorthand for charging(energy_wh)


def snap(
    the_site: Site,
    cars: Mapping[ConnectorKey, Obs] | None = None,
    *,
    at: datetime = T0,
    offline: Iterable[str] = (),
    absent: Iterable[str] = (),
    meters: Mapping[str, tuple[float, float, float] | MeterReading] | None = None,
    inputs: Mapping[int, bool] | None = None,
    remote: Mapping[str, float] | None = None,
) -> Snapshot:
    """Every station online and idle unless listed in `cars`, `offline` or `absent`."""
    cars = cars or {}
    offline, absent = set(offline), set(absent)
    stations: dict[str, StationObservation] = {}
    for st in the_site.stations:
        if st.id in absent:
            continue
        obs: dict[int, ConnectorObservation] = {}
        for c in st.connectors:
            o = cars.get((st.id, c.id))
            if o is None:
                obs[c.id] = IDLE
            elif isinstance(o, ConnectorObservation):
                obs[c.id] = o
            else:
                obs[c.id] = charging(float(o))
        stations[st.id] = StationObservation(online=st.id not in offline, connectors=obs)
    readings = {
        mid: v if isinstance(v, MeterReading) else MeterReading(Phases(*v)) for mid, v in (meters or {}).items()
    }
    return Snapshot(at, readings, dict(inputs or {}), dict(remote or {}), stations)


def topo(the_site: Site) -> Topology:
    return compile_site(the_site, catalogue())


def run(
    the_site: Site,
    snapshot: Snapshot,
    state: AllocatorState | None = None,
    params: AllocatorParams | None = None,
) -> tuple[Allocation, AllocatorState]:
    return allocate(topo(the_site), snapshot, state, params)


def setpoints(alloc: Allocation) -> dict[ConnectorKey, int]:
    return alloc.setpoints()


def result(alloc: Allocation, key: ConnectorKey) -> ConnectorResult:
    for c in alloc.connectors:
        if (c.station, c.connector) == key:
            return c
    raise KeyError(key)


def zres(alloc: Allocation, zid: str) -> ZoneResult:
    for z in alloc.zones:
        if z.id == zid:
            return z
    raise KeyError(zid)


def limit(alloc: Allocation, zid: str) -> tuple[float, float, float]:
    lim = zres(alloc, zid).limit_a
    return (lim[0], lim[1], lim[2])


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def tri_site(max_a: int, n: int, **kw: object) -> Site:
    """One static zone `z` of `max_a`, `n` one-connector TRI123 stations S1..Sn."""
    return site([zone("z", max_a)], [station(f"S{i}", "z") for i in range(1, n + 1)], **kw)  # type: ignore[arg-type]
