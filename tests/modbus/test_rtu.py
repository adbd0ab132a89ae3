"""Modbus RTU over a socat pty pair: the simulator on one end, the poller on the other."""

from __future__ import annotations

import importlib.util

import pytest

from edgectl.adapters.modbus.bus import BusSettings
from edgectl.adapters.modbus.health import HealthState
from edgectl.adapters.modbus.poller import create_pollers
from edgectl.clock import SystemClock
from edgectl.core.site import Meter, Transport
from simulators.meter import MeterServer, PtyPair

from .simhelpers import BASE_A, EV_A, Published, sim_meter

pytestmark = [
    pytest.mark.skipif(not PtyPair.available(), reason="socat not installed (the test command installs it via apt)"),
    pytest.mark.skipif(
        importlib.util.find_spec("serial") is None, reason="pyserial not installed (pymodbus needs it for RTU)"
    ),
]


def rtu_meter(meter_id: str, model: str, port: str, unit_id: int) -> Meter:
    return Meter(
        id=meter_id,
        model=model,
        transport=Transport.RTU,
        serial_port=port,
        baudrate=19200,
        parity="N",  # a Linux pty refuses even parity (termios EINVAL); a pty ignores parity anyway
        stopbits=1,
        unit_id=unit_id,
    )


async def test_two_meters_on_one_rs485_line() -> None:
    nsx, pm = sim_meter("nsx", unit_id=3), sim_meter("pm5320", unit_id=4)
    with PtyPair() as pty:
        server = MeterServer([nsx, pm])
        await server.start_rtu(pty.server_end, baudrate=19200, parity="N", stopbits=1)
        published = Published()
        registry, pollers = create_pollers(
            [rtu_meter("nsx", "nsx", pty.client_end, 3), rtu_meter("pm", "pm5320", pty.client_end, 4)],
            SystemClock(),
            published,
            bus_settings=BusSettings(timeout_s=1.0, inter_frame_delay_s=0.005),
        )
        try:
            assert pollers[0].bus is pollers[1].bus
            for _ in range(2):
                for p in pollers:
                    assert await p.poll_once() is not None, p.health.last_error
        finally:
            await registry.close()
            await server.stop()
    expected = BASE_A + EV_A
    for p in pollers:
        assert p.health.state is HealthState.CONNECTED
        reading = p.last_reading
        assert reading is not None
        assert reading.current_a == pytest.approx(tuple(expected), abs=0.5)
    assert server.max_in_flight == 1
    assert {r.unit_id for r in server.requests} == {3, 4}
