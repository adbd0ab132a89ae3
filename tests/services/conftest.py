"""Fixtures: a real store, the OCPP server and the file endpoints on loopback,
one simulated station connected to them, and the command service over it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from edgectl.adapters.files import FileEndpoints, FileServer
from edgectl.adapters.ocpp import OcppServer
from edgectl.adapters.store import Store, open_store
from edgectl.core.site import Card, Connector, Site, Station, Wiring, Zone
from edgectl.services import AlarmMonitor, StationCommandService, StationObserverTee
from edgectl.settings import OcppConfig
from simulators.station import Connector as SimConnector
from simulators.station import SimClock, SimStation

CALL_TIMEOUT_S = 1.0


def one_station_site() -> Site:
    t2 = (Connector(1, Wiring.TRI123, 32, "T2"), Connector(2, Wiring.TRI123, 32, "T2"))
    return Site(
        zones=(Zone("z", "Zone", 63),),
        stations=(Station("S1", "Station 1", "generic_ac", "z", t2),),
        cards=(Card("TAG1"), Card("TAG2")),
    )


async def eventually(check: Callable[[], bool], timeout_s: float = 10.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def eventually_async(check: Callable[[], object], timeout_s: float = 10.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():  # type: ignore[misc]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Observer:
    """The control loop's place: remembers who is connected."""

    def __init__(self) -> None:
        self.connected: set[str] = set()

    def station_connected(self, station_id: str) -> None:
        self.connected.add(station_id)

    def station_disconnected(self, station_id: str) -> None:
        self.connected.discard(station_id)

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *a, **k: None


@dataclass
class Bench:
    store: Store
    server: OcppServer
    files: FileServer
    station: SimStation
    service: StationCommandService
    alarms: AlarmMonitor
    clock: SimClock
    data_dir: Path
    force_stopped: list[tuple[str, int, int]] = field(default_factory=list)


@pytest.fixture
async def bench(tmp_path: Path) -> AsyncIterator[Bench]:
    clock = SimClock()
    site = one_station_site()
    async with open_store(tmp_path / "edgectl.db", clock) as store:
        alarms = AlarmMonitor(store, clock, lambda: site)
        await alarms.load()
        observer = Observer()
        config = OcppConfig(host="127.0.0.1", port=0, heartbeat_interval_s=300, call_timeout_s=CALL_TIMEOUT_S)
        server = OcppServer(config, store, StationObserverTee(observer, alarms), clock, lambda: site)  # type: ignore[arg-type]
        await server.start()
        files = FileServer(FileEndpoints(tmp_path / "firmware", tmp_path / "diagnostics"), "127.0.0.1", 0)
        await files.start()
        stopped: list[tuple[str, int, int]] = []
        service = StationCommandService(
            server, store, clock, lambda: site,
            firmware_dir=tmp_path / "firmware",
            file_base_url=lambda sid: f"http://127.0.0.1:{files.port}" if sid in server.connected() else None,
            on_force_stopped=lambda s, c, t: stopped.append((s, c, t)),
            timeout_s=CALL_TIMEOUT_S,
        )
        station = SimStation(
            "S1", "generic_ac", [SimConnector(1), SimConnector(2)], url=f"ws://127.0.0.1:{server.port}/ocpp",
            clock=clock, tick_s=0.2, reconnect_s=0.2,
        )
        await station.start()
        try:
            await station.wait_ready(10)
            await eventually(lambda: "S1" in server.connected(), what="S1 set up")
            yield Bench(store, server, files, station, service, alarms, clock, tmp_path, stopped)
        finally:
            await station.stop()
            await files.stop()
            await server.stop()
