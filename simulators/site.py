"""A whole virtual site on loopback: the stations of a site file with their
cars, and the zone meters, physically coupled.

Rules:
- every station of the site is a `SimStation` (its connectors wired one- or
  three-phase as the site says), connecting to the daemon's OCPP URL;
- every TCP meter of the site is served by a `SimMeter` on its host:port and
  unit id (meters sharing a host:port share one server, like a gateway);
  only loopback addresses are served — a site pointing elsewhere is refused;
- a zone meter reads its building base load plus the current the simulated
  EVs of that zone's whole subtree draw, mapped through each connector's
  wiring onto grid phases; reporting meters read their base load only;
- traffic: cars arrive at free connectors (random card among the site's
  authorized ones, random battery, single- or three-phase), charge, and leave
  after a while or when full. Seeded: the same seed plays the same site.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
from collections.abc import Iterable
from dataclasses import dataclass

from edgectl.adapters.modbus.models import get_model
from edgectl.core.phases import Phases
from edgectl.core.site import Site, Transport, Wiring
from simulators.meter.physics import BaseLoadProfile, MeterPhysics
from simulators.meter.server import MeterServer, SimMeter
from simulators.station import Car, Connector, SimClock, SimStation


class SiteSimulationError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TrafficSettings:
    mean_interarrival_s: float = 20.0  # a new car somewhere on the site
    mean_stay_s: float = 900.0
    single_phase_share: float = 0.3


def _loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SimSite:
    def __init__(
        self,
        site: Site,
        ocpp_url: str,
        *,
        clock: SimClock | None = None,
        seed: int = 0,
        tick_s: float = 1.0,
        meter_interval_s: int = 10,
        base_load: BaseLoadProfile | None = None,
    ) -> None:
        self.site = site
        self.clock = clock or SimClock()
        self.rng = random.Random(seed)
        self.tick_s = tick_s
        self.stations: dict[str, SimStation] = {}
        self.wiring: dict[tuple[str, int], Wiring] = {}
        for st in site.stations:
            connectors = [
                Connector(c.id, max_current_a=float(c.max_current_a), phases=3 if c.wiring.three_phase else 1)
                for c in st.connectors
            ]
            for c in st.connectors:
                self.wiring[(st.id, c.id)] = c.wiring
            self.stations[st.id] = SimStation(
                st.id, st.model, connectors, ocpp_url, st.password, clock=self.clock, serial=st.serial or None,
                tick_s=tick_s, meter_interval_s=meter_interval_s,
            )
        self.meters: dict[str, SimMeter] = {}
        self._servers: dict[tuple[str, int], list[SimMeter]] = {}
        for i, m in enumerate(site.meters):
            if m.transport is not Transport.TCP:
                continue  # RTU meters need a serial pair; the demo site uses TCP
            if not _loopback(m.host):
                raise SiteSimulationError(
                    f"meter {m.id}: {m.host} is not a loopback address; the simulator serves 127.0.0.1 only"
                )
            physics = MeterPhysics(profile=base_load, seed=seed + i)
            sim = SimMeter(get_model(m.model), unit_id=m.unit_id, physics=physics)
            self.meters[m.id] = sim
            self._servers.setdefault((m.host or "127.0.0.1", m.port), []).append(sim)
        self._running: list[MeterServer] = []
        self._zone_of_meter = {z.meter: z.id for z in site.zones if z.meter}
        self._stations_below: dict[str, list[str]] = {}
        for st in site.stations:
            for zone_id in site.zone_path(st.zone):
                self._stations_below.setdefault(zone_id, []).append(st.id)
        self._leave_at: dict[tuple[str, int], float] = {}
        self._cards = [c.id_tag for c in site.cards if c.authorized]

    # --- lifecycle ---
    async def start(self, stations: bool = True) -> None:
        for (host, port), meters in self._servers.items():
            server = MeterServer(meters)
            await server.start_tcp(host, port)
            self._running.append(server)
        self.couple()
        if stations:
            for st in self.stations.values():
                await st.start()

    async def stop(self) -> None:
        for st in self.stations.values():
            with contextlib.suppress(Exception):
                await st.stop()
        for server in self._running:
            with contextlib.suppress(Exception):
                await server.stop()
        self._running.clear()

    # --- physics ---
    def grid_draw_a(self, station_ids: Iterable[str]) -> Phases:
        total = Phases()
        for sid in station_ids:
            st = self.stations[sid]
            for cid in st.connectors:
                total = total + self.wiring[(sid, cid)].to_grid(Phases(*st.drawn_current_a(cid)))
        return total

    def couple(self) -> None:
        """Feed each zone meter the current its zone's EVs draw right now."""
        for meter_id, sim in self.meters.items():
            zone_id = self._zone_of_meter.get(meter_id)
            draw = self.grid_draw_a(self._stations_below.get(zone_id, ())) if zone_id else Phases()
            sim.set_ev_current(draw)

    async def run_coupling(self) -> None:
        while True:
            self.couple()
            await asyncio.sleep(min(0.25, self.tick_s))

    # --- traffic ---
    def free_connectors(self) -> list[tuple[str, int]]:
        return [key for key in self.wiring if self.stations[key[0]].status(key[1]) == "Available"]

    def arrive(self, key: tuple[str, int], settings: TrafficSettings | None = None) -> Car:
        settings = settings or TrafficSettings()
        rng = self.rng
        car = Car(
            phases=1 if rng.random() < settings.single_phase_share else 3,
            max_current_a=rng.choice((16.0, 16.0, 32.0, 32.0, 20.0)),
            capacity_wh=rng.choice((40_000.0, 60_000.0, 77_000.0)),
            soc=rng.uniform(0.1, 0.7),
        )
        tag = rng.choice(self._cards) if self._cards else None
        self.stations[key[0]].plug_in(key[1], car=car, id_tag=tag)
        self._leave_at[key] = self.clock.monotonic() + rng.expovariate(1.0 / settings.mean_stay_s)
        return car

    async def run_traffic(self, settings: TrafficSettings | None = None) -> None:
        settings = settings or TrafficSettings()
        while True:
            await self.clock.sleep(self.rng.expovariate(1.0 / settings.mean_interarrival_s))
            now = self.clock.monotonic()
            for key, leave in list(self._leave_at.items()):
                if now >= leave:
                    self.stations[key[0]].unplug(key[1])
                    del self._leave_at[key]
            free = self.free_connectors()
            if free:
                self.arrive(self.rng.choice(free), settings)
