"""Every model file, served by the simulator and polled by the daemon's poller over Modbus TCP."""

from __future__ import annotations

import pytest

from edgectl.adapters.modbus.bus import BusSettings
from edgectl.adapters.modbus.codec import DataType
from edgectl.adapters.modbus.health import HealthState
from edgectl.adapters.modbus.models import builtin_models
from edgectl.adapters.modbus.poller import create_pollers
from edgectl.clock import SystemClock

from .simhelpers import BASE_A, EV_A, Published, sim_meter, tcp_meter, tcp_server


def tolerance(model_id: str, quantity: str, value: float) -> float:
    spec = builtin_models()[model_id].quantities[quantity]
    if spec.data_type is DataType.FLOAT32:
        return abs(value) * 1e-6 + 1e-6
    return spec.si_factor / 2 + 1e-9  # integer registers quantise to one step


@pytest.mark.parametrize("model_id", sorted(builtin_models()))
async def test_model_polled_from_simulator(model_id: str) -> None:
    sim = sim_meter(model_id, unit_id=7)
    async with tcp_server(sim) as (_server, port):
        published = Published()
        registry, (poller,) = create_pollers(
            [tcp_meter("zone-meter", model_id, port, unit_id=7)],
            SystemClock(),
            published,
            bus_settings=BusSettings(timeout_s=1.0),
        )
        try:
            first = await poller.poll_once()
            second = await poller.poll_once()
        finally:
            await registry.close()
    assert first is not None and second is not None, poller.health.last_error
    expected_a = BASE_A + EV_A
    for got, want in zip(second.current_a, expected_a, strict=True):
        assert got == pytest.approx(want, abs=tolerance(model_id, "i1", want))
    v, pf = sim.physics.voltage_v, sim.physics.power_factor
    want_p = sum(expected_a) * v * pf
    assert second.power_w == pytest.approx(want_p, abs=tolerance(model_id, "p_total", want_p))
    served = sim.last_served["energy"]
    assert second.energy_wh == pytest.approx(served, abs=tolerance(model_id, "energy", served))
    assert second.energy_wh >= first.energy_wh  # energy integrates power, never backwards
    assert second.sampled_at is not None and first.sampled_at is not None
    assert second.sampled_at >= first.sampled_at
    assert poller.health.state is HealthState.CONNECTED
    assert poller.health.last_good_at == second.sampled_at
    assert [r for _m, r in published.readings] == [first, second]


async def test_fewer_round_trips_for_adjacent_registers() -> None:
    sim = sim_meter("pm5320")
    async with tcp_server(sim) as (server, port):
        registry, (poller,) = create_pollers([tcp_meter("m", "pm5320", port)], SystemClock(), Published())
        try:
            await poller.poll_once()
        finally:
            await registry.close()
    # 8 quantities in 3 contiguous runs -> 3 requests, not 8.
    assert [(r.address, r.count) for r in server.requests] == [(2999, 6), (3053, 8), (3203, 4)]
    assert {r.function_code for r in server.requests} == {3}
