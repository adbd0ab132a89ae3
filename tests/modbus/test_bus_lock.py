"""Two meters behind one gateway share one client and one lock: their requests never overlap."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from pymodbus.client import AsyncModbusTcpClient

from edgectl.adapters.modbus.poller import create_pollers, run_pollers
from edgectl.clock import SystemClock

from .simhelpers import Published, sim_meter, tcp_meter, tcp_server


async def test_meters_on_one_gateway_never_overlap() -> None:
    a, b = sim_meter("pm5320", unit_id=1), sim_meter("mtz", unit_id=2)
    # Each request is held "in service" 10 ms, so any overlap would be seen by the server.
    async with tcp_server(a, b, service_delay_s=0.01) as (server, port):
        published = Published()
        registry, pollers = create_pollers(
            [tcp_meter("m1", "pm5320", port, 1), tcp_meter("m2", "mtz", port, 2)],
            SystemClock(),
            published,
            period_s=0.02,
        )
        assert pollers[0].bus is pollers[1].bus  # one client, one lock
        assert len(registry.buses) == 1
        task = asyncio.create_task(run_pollers(pollers), name="pollers-under-test")
        await asyncio.sleep(1.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await registry.close()
    units = {r.unit_id for r in server.requests}
    assert units == {1, 2}
    assert len(published.of("m1")) > 5 and len(published.of("m2")) > 5
    assert server.max_in_flight == 1
    ordered = sorted(server.requests, key=lambda r: r.started_s)
    for before, after in itertools.pairwise(ordered):
        assert after.started_s >= before.ended_s


async def test_the_overlap_detector_works() -> None:
    """Control: two independent clients do overlap, and the server sees it."""
    a, b = sim_meter("pm5320", unit_id=1), sim_meter("pm5320", unit_id=2)
    async with tcp_server(a, b, service_delay_s=0.05) as (server, port):
        c1, c2 = AsyncModbusTcpClient("127.0.0.1", port=port), AsyncModbusTcpClient("127.0.0.1", port=port)
        assert await c1.connect() and await c2.connect()
        try:
            await asyncio.gather(
                c1.read_holding_registers(2999, count=6, device_id=1),
                c2.read_holding_registers(2999, count=6, device_id=2),
            )
        finally:
            c1.close()
            c2.close()
    assert server.max_in_flight == 2
