"""Faults on command: silence, garbage, short answers, exceptions, slowness -> health, never published."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from structlog.testing import capture_logs

from edgectl.adapters.modbus.bus import BusSettings
from edgectl.adapters.modbus.health import HealthState
from edgectl.adapters.modbus.poller import create_pollers
from edgectl.clock import SystemClock
from simulators.meter import Fault

from .simhelpers import Published, sim_meter, tcp_meter, tcp_server

TIMEOUT_S = 0.3
PERIOD_S = 0.05
SETTINGS = BusSettings(timeout_s=TIMEOUT_S, retries=0, backoff_initial_s=0.1, backoff_max_s=0.2)


async def wait_for(predicate, within_s: float) -> float:
    """Seconds it took until predicate() held; fails after within_s."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not predicate():
        if loop.time() - start > within_s:
            raise AssertionError(f"condition not met within {within_s} s")
        await asyncio.sleep(0.01)
    return loop.time() - start


@contextlib.asynccontextmanager
async def polling(model_id: str = "pm5320"):
    sim = sim_meter(model_id)
    async with tcp_server(sim) as (_server, port):
        published = Published()
        clock = SystemClock()
        registry, (poller,) = create_pollers(
            [tcp_meter("pm-main", model_id, port)], clock, published, bus_settings=SETTINGS, period_s=PERIOD_S
        )
        task = asyncio.create_task(poller.run(), name="poller-under-test")
        try:
            await wait_for(lambda: poller.health.state is HealthState.CONNECTED, 3.0)
            yield sim, poller, published, clock
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await registry.close()


async def test_silence_is_detected_within_one_timeout_then_recovery_logged_once() -> None:
    with capture_logs() as logs:
        async with polling() as (sim, poller, published, clock):
            sim.set_fault(Fault.SILENT)
            silent_at = clock.now()
            took = await wait_for(lambda: poller.health.state is HealthState.CONNECTION_ERROR, 2.0)
            # one in-flight poll may finish first, then one timeout
            assert took <= PERIOD_S + TIMEOUT_S + 0.25
            frozen = poller.health.last_good_at
            assert frozen is not None and frozen <= silent_at
            count = len(published.readings)
            await asyncio.sleep(3 * TIMEOUT_S)
            assert poller.health.last_good_at == frozen  # stopped advancing
            assert len(published.readings) == count  # nothing published while silent
            assert poller.health.is_stale(clock.now(), poller.max_sample_age_s)
            assert "unit 1" in (poller.health.last_error or "")
            sim.set_fault(Fault.NONE)
            await wait_for(lambda: poller.health.state is HealthState.CONNECTED, 5.0)
            await asyncio.sleep(5 * PERIOD_S)
            assert poller.health.last_good_at is not None and poller.health.last_good_at > frozen
    events = [e["event"] for e in logs if e["event"].startswith("meter.")]
    assert events == ["meter.lost", "meter.recovered"]
    lost = next(e for e in logs if e["event"] == "meter.lost")
    assert lost["meter_id"] == "pm-main" and lost["log_level"] == "warning"


@pytest.mark.parametrize(
    ("fault", "error_part"),
    [
        (Fault.NAN, "i1: implausible value nan"),
        (Fault.SHORT, "expected 6 registers, got 5"),
        (Fault.EXCEPTION, "exception code"),
        (Fault.SLOW, "no valid answer"),
    ],
)
async def test_bad_answers_are_rejected_never_published(fault: Fault, error_part: str) -> None:
    with capture_logs() as logs:
        async with polling() as (sim, poller, published, _clock):
            sim.set_fault(fault, slow_delay_s=3 * TIMEOUT_S)
            await wait_for(lambda: poller.health.state is HealthState.CONNECTION_ERROR, 2.0)
            count = len(published.readings)
            await asyncio.sleep(4 * TIMEOUT_S)
            assert len(published.readings) == count
            assert error_part in (poller.health.last_error or ""), poller.health.last_error
            sim.set_fault(Fault.NONE)
            await wait_for(lambda: poller.health.state is HealthState.CONNECTED, 5.0)
    events = [e["event"] for e in logs if e["event"].startswith("meter.")]
    assert events == ["meter.lost", "meter.recovered"]


async def test_nan_on_integer_models_is_garbage_too() -> None:
    async with polling("nsx") as (sim, poller, _published, _clock):
        sim.set_fault(Fault.NAN)  # all-ones integers: 65535 A
        await wait_for(lambda: poller.health.state is HealthState.CONNECTION_ERROR, 2.0)
        assert "current above" in (poller.health.last_error or "")


async def test_unreachable_meter_is_connection_error_with_backoff() -> None:
    from .simhelpers import free_port

    published = Published()
    registry, (poller,) = create_pollers(
        [tcp_meter("gone", "pm5320", free_port())], SystemClock(), published, bus_settings=SETTINGS
    )
    try:
        assert poller.health.state is HealthState.NOT_CONNECTED
        assert await poller.poll_once() is None
        assert poller.health.state is HealthState.CONNECTION_ERROR
        assert "cannot connect" in (poller.health.last_error or "")
        assert await poller.poll_once() is None  # backing off: fails at once, no reconnect storm
        assert "next attempt" in (poller.health.last_error or "")
    finally:
        await registry.close()
    assert published.readings == []
