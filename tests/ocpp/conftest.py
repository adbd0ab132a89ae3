"""Fixtures: a real store in tmp_path, a recording observer, the server on an
ephemeral loopback port, and a factory of raw stations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from ocpp_support import T0, RawStation, RecordingObserver, Responder, SiteHolder, accept_all
from websockets.asyncio.client import connect

from edgectl.adapters.ocpp import OcppServer
from edgectl.adapters.store import Store, open_store
from edgectl.clock import FakeClock
from edgectl.settings import OcppConfig


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    async with open_store(tmp_path / "edgectl.db", clock) as s:
        yield s


@pytest.fixture
def observer() -> RecordingObserver:
    return RecordingObserver()


@pytest.fixture
def site() -> SiteHolder:
    return SiteHolder()


@pytest.fixture
async def server(
    store: Store, observer: RecordingObserver, clock: FakeClock, site: SiteHolder
) -> AsyncIterator[OcppServer]:
    # These tests pin the setup conversation; offline-auth sync is tested in tests/auth.
    config = OcppConfig(
        host="127.0.0.1", port=0, heartbeat_interval_s=300, call_timeout_s=2.0, manage_station_auth=False
    )
    srv = OcppServer(config, store, observer, clock, site)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def stations(server: OcppServer) -> AsyncIterator[Callable[..., Awaitable[RawStation]]]:
    opened: list[RawStation] = []

    async def open_station(identity: str, responder: Responder = accept_all, path: str = "/ocpp/") -> RawStation:
        ws = await connect(f"ws://127.0.0.1:{server.port}{path}{identity}", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
        station = RawStation(ws, responder)
        opened.append(station)
        return station

    yield open_station
    for station in opened:
        await station.close()
