from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from edgectl.clock import FakeClock
from edgectl.core.site import Connector, Site, Station, Wiring, Zone, ZoneMode
from edgectl.ports import CallTimeoutError, StationNotConnectedError, payload_dict

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class FakeStations:
    """StationCalls at the port: records calls, answers as told."""

    def __init__(self) -> None:
        self.online: set[str] = set()
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.answer: dict[str, str] = {}  # station -> status to answer ("timeout" raises)
        self.in_flight: dict[str, int] = {}
        self.max_in_flight = 0

    def connected(self) -> frozenset[str]:
        return frozenset(self.online)

    async def call(self, station_id: str, action: str, payload: dict[str, Any], timeout_s: float | None = None):
        if station_id not in self.online:
            raise StationNotConnectedError(station_id)
        self.in_flight[station_id] = self.in_flight.get(station_id, 0) + 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight[station_id])
        try:
            await asyncio.sleep(0)
            self.calls.append((station_id, action, payload))
            status = self.answer.get(station_id, "Accepted")
            if status == "timeout":
                raise CallTimeoutError(station_id)
            return {"status": status}
        finally:
            self.in_flight[station_id] -= 1

    def start_call(self, station_id: str, action: str, payload: Any, timeout_s: float):
        return asyncio.ensure_future(self.call(station_id, action, payload_dict(payload), timeout_s))


def two_zone_site() -> Site:
    return Site(
        zones=(
            Zone("root", "Root", 64),
            Zone("a", "A", 32, parent="root"),
            Zone("b", "B", 32, parent="root"),
        ),
        stations=(
            Station("A1", "A1", "generic_ac", "a", (Connector(1, Wiring.TRI123, 32),)),
            Station("A2", "A2", "generic_ac", "a", (Connector(1, Wiring.TRI123, 32),)),
            Station("B1", "B1", "generic_ac", "b", (Connector(1, Wiring.MONO1, 32),)),
            Station("D1", "D1", "generic_dc", "b", (Connector(1, Wiring.TRI123, 32),)),
        ),
    )


def dynamic_site() -> Site:
    return Site(
        zones=(Zone("root", "Root", 40, ZoneMode.DYNAMIC, meter="m", degraded_current_a=12),),
        stations=(Station("S1", "S1", "generic_ac", "root", (Connector(1, Wiring.TRI123, 32),)),),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def stations() -> FakeStations:
    return FakeStations()
