"""Hypothesis strategies: random sites and snapshots within the SPEC's rules.

Trees of at most 3 levels with stations on leaves only; mixed wirings,
sockets and models (City, DC included); VIP stations and VIP cards; static
and dynamic zones with fresh, stale or lost meters; offline and absent
stations; digital inputs, time-of-use and remote setpoints; car reports with
NaN on a terminal (garbage readings: `nan_readings=True`; the engine, its
reference and tests/core/oracle.py all count a NaN phase as 0 A of EV
current, and the property tests draw them).

Slots that run past midnight are only drawn on periods active every day: the
SPEC does not say which day such a slot belongs to after midnight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from hypothesis import strategies as st

from edgectl.core.phases import Phases
from edgectl.core.site import (
    WEEKDAYS,
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
from edgectl.core.state import AllocatorState

MODELS = {
    "generic_ac": 2,
    "evlink_parking": 2,
    "evlink_pro_ac": 2,
    "evlink_city": 2,
    "evlink_smart_wallbox": 1,
    "evlink_dc": 2,
    "generic_dc": 2,
}
STATUSES = ("Available", "Charging", "Charging", "Charging", "SuspendedEV", "SuspendedEVSE", "Preparing", "Faulted")
TAGS = (None, None, "VIPCARD", "vipcard", "STAFF", "UNKNOWN")


@dataclass(frozen=True)
class Case:
    site: Site
    snapshot: Snapshot
    state: AllocatorState


@st.composite
def zone_trees(draw: st.DrawFn) -> list[Zone]:
    zones: list[Zone] = []
    counter = iter(range(100))

    def make(parent: Zone | None, depth: int) -> None:
        zid = f"z{next(counter)}"
        top = parent.max_current_a if parent else 250
        mx = draw(st.integers(top // 2, top) | st.integers(0, top))
        dynamic = draw(st.booleans())
        z = Zone(
            zid,
            zid,
            mx,
            ZoneMode.DYNAMIC if dynamic else ZoneMode.STATIC,
            parent.id if parent else None,
            f"m-{zid}" if dynamic else None,
            draw(st.integers(0, mx)) if dynamic else 0,
            tou_enabled=draw(st.booleans()),
        )
        zones.append(z)
        if depth < 3:
            for _ in range(draw(st.integers(0, 3 if depth == 1 else 2))):
                make(z, depth + 1)

    for _ in range(draw(st.integers(1, 2))):
        make(None, 1)
    return zones


@st.composite
def stations_on(draw: st.DrawFn, leaves: list[str]) -> list[Station]:
    out: list[Station] = []
    for i in range(draw(st.integers(1, 7))):
        model = draw(st.sampled_from(sorted(MODELS)))
        dc = model.endswith("_dc")
        conns = []
        for cid in range(1, draw(st.integers(1, MODELS[model])) + 1):
            socket = draw(st.sampled_from(("CCS",) if dc else ("T2", "T2", "TE", "T2/TE")))
            conns.append(Connector(cid, draw(st.sampled_from(tuple(Wiring))), draw(st.integers(6, 63)), socket))
        out.append(
            Station(
                f"S{i}", f"S{i}", model, draw(st.sampled_from(leaves)), tuple(conns), vip=draw(st.integers(0, 5)) == 0
            )
        )
    return out


@st.composite
def tou_settings(draw: st.DrawFn, zone_ids: list[str]) -> Tou:
    periods = []
    for p in range(draw(st.integers(0, 3))):
        slots = []
        for _ in range(draw(st.integers(1, 2))):
            a = draw(st.integers(0, 24 * 60 - 1))
            b = draw(st.integers(0, 24 * 60 - 1).filter(lambda v, a=a: v != a))
            slots.append(TouSlot(time(a // 60, a % 60), time(b // 60, b % 60)))
        wraps = any(s.end <= s.start for s in slots)
        days = WEEKDAYS if wraps else tuple(draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True)))
        zones = draw(st.none() | st.lists(st.sampled_from(zone_ids), min_size=1, unique=True).map(tuple))
        periods.append(TouPeriod(f"p{p}", draw(st.integers(0, 100)), days, tuple(slots), draw(st.booleans()), zones))
    return Tou(draw(st.booleans()), tuple(periods))


@st.composite
def sites(draw: st.DrawFn) -> Site:
    zones = draw(zone_trees())
    leaves = [z.id for z in zones if not any(c.parent == z.id for c in zones)]
    settings = SiteSettings(
        timezone=draw(st.sampled_from(("UTC", "Europe/Paris"))),
        min_current=draw(st.sampled_from(tuple(MinCurrentPolicy))),
        shedding_priority=draw(st.sampled_from(tuple(SheddingPriority))),
        rotation_minutes=draw(st.sampled_from((5, 15))),
    )
    inputs = tuple(
        DigitalInput(ch, f"di{ch}", draw(st.booleans()), draw(st.integers(0, 100)))
        for ch in (1, 2, 3)
        if draw(st.booleans())
    )
    cards = (Card("VIPCARD", vip=True), Card("STAFF", vip=False))
    return Site(
        settings,
        tuple(zones),
        tuple(draw(stations_on(leaves))),
        (),
        cards,
        draw(tou_settings([z.id for z in zones])),
        inputs,
    )


def _currents(draw: st.DrawFn, conn: Connector, nan_readings: bool) -> Phases | None:
    if draw(st.booleans()):
        return None
    a = float(draw(st.integers(0, conn.max_current_a)))
    values = [a, a, a] if conn.wiring.three_phase and draw(st.booleans()) else [a, 0.0, 0.0]
    if nan_readings and draw(st.integers(0, 7)) == 0:
        # A garbage reading: a NaN on any terminal (loaded or not), or on all.
        nan = math.nan
        values = (
            [nan, nan, nan]
            if draw(st.booleans())
            else [nan if p == draw(st.integers(0, 2)) else v for p, v in enumerate(values)]
        )
    return Phases(*values)


@st.composite
def snapshots(draw: st.DrawFn, site: Site, nan_readings: bool = False) -> Snapshot:
    # hypothesis wants naive bounds and attaches the zone itself
    lo, hi = datetime(2026, 1, 1), datetime(2027, 1, 1)  # noqa: DTZ001
    at = draw(st.datetimes(lo, hi, timezones=st.just(UTC)))
    stations: dict[str, StationObservation] = {}
    for s in site.stations:
        presence = draw(st.sampled_from(("online", "online", "online", "offline", "absent")))
        if presence == "absent":
            continue
        obs: dict[int, ConnectorObservation] = {}
        for c in s.connectors:
            status = draw(st.sampled_from(STATUSES))
            obs[c.id] = ConnectorObservation(
                status=status,
                id_tag=draw(st.sampled_from(TAGS)),
                transaction_id=draw(st.sampled_from((None, 7))) if status == "Preparing" else 7,
                started=at - timedelta(seconds=draw(st.integers(0, 36_000))),
                energy_wh=float(draw(st.integers(0, 60_000))),
                charging_s=draw(st.none() | st.floats(0, 36_000)),
                current_a=_currents(draw, c, nan_readings) if presence == "online" and status != "Available" else None,
            )
        stations[s.id] = StationObservation(presence == "online", obs)
    meters: dict[str, MeterReading] = {}
    for z in site.zones:
        if z.meter is None:
            continue
        kind = draw(st.sampled_from(("fresh", "fresh", "stale", "lost")))
        if kind == "lost":
            continue
        reading = Phases(
            *(draw(st.floats(0, z.max_current_a * 0.6) | st.floats(0, z.max_current_a * 1.5 + 10)) for _ in range(3))
        )
        age = draw(st.floats(0, 4.5)) if kind == "fresh" else draw(st.floats(6, 600))
        meters[z.meter] = MeterReading(reading, sampled_at=at - timedelta(seconds=age))
    inputs = {ch: draw(st.booleans()) for ch in (1, 2, 3) if draw(st.booleans())}
    remote = {
        z.id: float(draw(st.integers(0, z.max_current_a + 20))) for z in site.zones if draw(st.integers(0, 4)) == 0
    }
    return Snapshot(at, meters, inputs, remote, stations)


@st.composite
def cases(draw: st.DrawFn, nan_readings: bool = False) -> Case:
    site = draw(sites())
    snapshot = draw(snapshots(site, nan_readings))
    last = {
        (s.id, c.id): draw(st.integers(0, c.max_current_a))
        for s in site.stations
        if s.model.endswith("_dc")
        for c in s.connectors
    }
    return Case(site, snapshot, AllocatorState(setpoints=last))
