"""Fixtures for the OCPP-level auth tests: a real store, the server on an
ephemeral loopback port (plain and TLS), and hand-driven stations."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from edgectl.adapters.ocpp import OcppServer
from edgectl.adapters.store import Store, open_store
from edgectl.clock import FakeClock
from edgectl.settings import OcppConfig
from edgectl.tls import ensure_certificate, server_context

from .support import T0, NullObserver, RawStation, SiteHolder, StationBehaviour, connect_station


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    async with open_store(tmp_path / "edgectl.db", clock) as s:
        yield s


@pytest.fixture
def site() -> SiteHolder:
    return SiteHolder()


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    return ensure_certificate(tmp_path / "data", T0)


@pytest.fixture
async def server(
    store: Store, clock: FakeClock, site: SiteHolder, cert: tuple[Path, Path]
) -> AsyncIterator[OcppServer]:
    config = OcppConfig(host="127.0.0.1", port=0, tls_port=0, heartbeat_interval_s=300, call_timeout_s=1.0)
    srv = OcppServer(config, store, NullObserver(), clock, site, ssl_context=server_context(*cert))
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
def client_tls(cert: tuple[Path, Path]) -> ssl.SSLContext:
    """A TLS client that trusts the box's generated certificate (and nothing else)."""
    return ssl.create_default_context(cafile=str(cert[0]))


@pytest.fixture
async def stations(server: OcppServer) -> AsyncIterator[Callable[..., Awaitable[RawStation]]]:
    opened: list[RawStation] = []

    async def open_station(identity: str, behaviour: StationBehaviour | None = None, **kw: Any) -> RawStation:
        st = await connect_station(f"ws://127.0.0.1:{server.port}/ocpp/{identity}", behaviour, **kw)
        opened.append(st)
        return st

    yield open_station
    for st in opened:
        await st.close()
