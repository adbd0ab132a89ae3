"""Fixtures: a real store on disk, the app on loopback, fakes for the controller."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from edgectl.adapters.modbus.catalog import MeterModelCatalog
from edgectl.adapters.store import Role, Store, User, open_store
from edgectl.adapters.web import SecurityPolicy, WebDeps, create_app
from edgectl.adapters.web.passwords import FAST_TEST_PARAMS, hash_password
from edgectl.clock import FakeClock
from edgectl.core.phases import Phases
from edgectl.core.result import Allocation, ConnectorResult, ConnectorState, ZoneResult
from edgectl.core.site import (
    Card,
    Connector,
    RemoteEnergyManagement,
    Site,
    SiteSettings,
    Station,
    Tou,
    TouPeriod,
    TouSlot,
    Wiring,
    Zone,
)
from edgectl.core.snapshot import ConnectorObservation, Snapshot, StationObservation
from edgectl.ports import CommandResult

PASSWORD = "Str0ng!pass"
POLICY = SecurityPolicy(scrypt=FAST_TEST_PARAMS)
USERS = {
    "alice": (Role.ADMIN, None),
    "bob": (Role.USER, None),
    "carol": (Role.USER, "floor1"),  # operator domain: floor1 only
    "ws": (Role.WEBSERVICES, None),  # the designated remote energy-management login
    "ws2": (Role.WEBSERVICES, None),
    "factory": (Role.FACTORY, None),
}


def make_site() -> Site:
    return Site(
        settings=SiteSettings(name="Test site", timezone="Europe/Paris",
                              remote_energy=RemoteEnergyManagement(enabled=True, login="ws", time_sync=True)),
        zones=(
            Zone("main", "Main", 100),
            Zone("floor1", "Floor 1", 63, parent="main"),
            Zone("floor2", "Floor 2", 63, parent="main"),
        ),
        stations=(
            Station("S1", "Station 1", "generic_ac", "floor1", (Connector(1, Wiring.TRI123, 32, "T2"),)),
            Station("S2", "Station 2", "generic_ac", "floor2", (Connector(1, Wiring.MONO1, 32, "TE"),)),
        ),
        cards=(Card("CARD1", zones=("floor1",)), Card("CARD2", zones=("floor2",)), Card("ALLZ")),
        tou=Tou(enabled=True, periods=(
            TouPeriod("peak", 50, ("mon", "tue", "wed", "thu", "fri"), (TouSlot(time(8), time(12)),)),
        )),
    )


@dataclass
class FakeLive:
    setpoints: dict[str, float | None] = field(default_factory=dict)
    subscribers: list[Callable[[Allocation], None]] = field(default_factory=list)
    alloc: Allocation | None = None
    clock: FakeClock | None = None

    def allocation(self) -> Allocation | None:
        return self.alloc

    def snapshot(self) -> Snapshot:
        assert self.clock is not None
        obs = ConnectorObservation(status="Charging", id_tag="CARD1", transaction_id=1, energy_wh=1200.0,
                                   current_a=Phases(15.8, 15.9, 15.7))
        return Snapshot(time=self.clock.now(), stations={"S1": StationObservation(True, {1: obs})},
                        remote_setpoints_a={k: v for k, v in self.setpoints.items() if v is not None},
                        digital_inputs={1: False})

    def connected_stations(self) -> frozenset[str]:
        return frozenset({"S1"})

    def meter_health(self) -> dict[str, dict[str, Any]]:
        return {}

    def subscribe(self, callback: Callable[[Allocation], None]) -> Callable[[], None]:
        self.subscribers.append(callback)
        return lambda: self.subscribers.remove(callback) if callback in self.subscribers else None

    def set_remote_setpoint(self, zone_id: str, amps: float | None) -> None:
        self.setpoints[zone_id] = amps

    def publish(self) -> None:
        assert self.alloc is not None
        for cb in list(self.subscribers):
            cb(self.alloc)


def sample_allocation(clock: FakeClock) -> Allocation:
    return Allocation(
        time=clock.now(),
        connectors=(
            ConnectorResult("S1", 1, 16, ConnectorState.CHARGING, ("zone:floor1:L1",), 0, Phases(16, 16, 16)),
            ConnectorResult("S2", 1, 0, ConnectorState.IDLE, ("status:Available",), 0, Phases()),
        ),
        zones=tuple(ZoneResult(z, Phases(63, 63, 63), Phases(16, 16, 16), Phases(), False, ("max_current",))
                    for z in ("main", "floor1", "floor2")),
    )


@dataclass
class FakeCommands:
    calls: list[tuple[str, str, dict[str, Any], str]] = field(default_factory=list)

    async def execute(self, station_id: str, command: str, params: dict[str, Any], actor: str) -> CommandResult:
        self.calls.append((station_id, command, params, actor))
        return CommandResult(station_id, command, "Accepted")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    async with open_store(tmp_path / "edgectl.db", clock) as s:
        await s.site.replace(make_site())
        for name, (role, scope) in USERS.items():
            await s.users.create(User(name, hash_password(PASSWORD, FAST_TEST_PARAMS), role, scope))
        yield s


@dataclass
class Env:
    client: TestClient
    store: Store
    clock: FakeClock
    live: FakeLive
    commands: FakeCommands
    deps: WebDeps
    site_changes: list[Site]


@pytest.fixture
async def env(store: Store, clock: FakeClock) -> AsyncIterator[Env]:
    live = FakeLive(clock=clock)
    live.alloc = sample_allocation(clock)
    commands = FakeCommands()
    changes: list[Site] = []
    deps = WebDeps(store=store, clock=clock, live=live, commands=commands, policy=POLICY,
                   on_site_changed=changes.append, rem_watch_s=None,
                   meter_models=MeterModelCatalog())
    client = TestClient(TestServer(create_app(deps), host="127.0.0.1"))
    await client.start_server()
    try:
        yield Env(client, store, clock, live, commands, deps, changes)
    finally:
        await client.close()


def basic(user: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def login(client: TestClient, user: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in with a cookie session; returns the CSRF header for writes."""
    resp = await client.post("/api/v1/auth/login", json={"username": user, "password": password})
    assert resp.status == 200, await resp.text()
    return {"X-CSRF-Token": (await resp.json())["csrf_token"]}
