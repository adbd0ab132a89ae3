"""Shared helpers: simulated meters on ephemeral loopback ports."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from edgectl.adapters.modbus.models import get_model
from edgectl.core.phases import Phases
from edgectl.core.site import Meter, Transport
from simulators.meter import BaseLoadProfile, MeterPhysics, MeterServer, SimMeter

BASE_A = Phases(20.0, 15.0, 25.0)
EV_A = Phases(6.0, 0.0, 10.0)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sim_meter(model_id: str, unit_id: int = 1, ev_a: Phases = EV_A) -> SimMeter:
    physics = MeterPhysics(BaseLoadProfile(fixed_a=BASE_A), energy_wh=2_000_000.0)
    sim = SimMeter(get_model(model_id), unit_id, physics)
    sim.set_ev_current(ev_a)
    return sim


def tcp_meter(meter_id: str, model_id: str, port: int, unit_id: int = 1) -> Meter:
    return Meter(id=meter_id, model=model_id, transport=Transport.TCP, host="127.0.0.1", port=port, unit_id=unit_id)


@asynccontextmanager
async def tcp_server(*sims: SimMeter, service_delay_s: float = 0.002) -> AsyncIterator[tuple[MeterServer, int]]:
    server = MeterServer(list(sims), service_delay_s=service_delay_s)
    port = free_port()
    await server.start_tcp("127.0.0.1", port)
    try:
        yield server, port
    finally:
        await server.stop()


class Published:
    """The publish callback the control loop would plug in: records what it got."""

    def __init__(self) -> None:
        self.readings: list[tuple[str, object]] = []

    def __call__(self, meter_id: str, reading: object) -> None:
        self.readings.append((meter_id, reading))

    def of(self, meter_id: str) -> list:
        return [r for m, r in self.readings if m == meter_id]


Factory = Callable[..., object]
