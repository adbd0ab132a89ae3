"""DigitalInputs on gpiozero's MockFactory with a FakeClock: debounced edges to the observer."""

from __future__ import annotations

import asyncio
import dataclasses
import threading

import pytest
from gpiozero import DigitalInputDevice
from structlog.testing import capture_logs

from edgectl.adapters.gpio import DigitalInputs, build_gpio_services

from .helpers import CONFIG, DI_PINS, RecordingObserver, settle


def make(factory, observer, clock, config=CONFIG) -> DigitalInputs:
    return DigitalInputs(config, observer, clock, pin_factory=factory)


async def started(factory, observer, clock) -> DigitalInputs:
    """Opened, with the initial (all low) states reported and forgotten."""
    inputs = make(factory, observer, clock)
    assert inputs.open()
    clock.advance(CONFIG.debounce_s)
    inputs.poll()
    assert observer.calls == [(1, False), (2, False), (3, False)]
    observer.calls.clear()
    return inputs


async def test_initial_states_reported_after_debounce(factory, observer, clock):
    inputs = make(factory, observer, clock)
    assert inputs.open()
    # DI 2 active at start (driven right after the pull-down was set: the mock pin resets to its pull)
    factory.pin(27).drive_high()
    await settle()
    inputs.poll()
    assert observer.calls == []  # not held long enough yet
    clock.advance(0.049)
    inputs.poll()
    assert observer.calls == []
    clock.advance(0.001)
    inputs.poll()
    assert observer.calls == [(1, False), (2, True), (3, False)]
    assert inputs.states() == {1: False, 2: True, 3: False}
    inputs.close()


async def test_edge_reported_after_debounce(factory, observer, clock):
    inputs = await started(factory, observer, clock)
    factory.pin(17).drive_high()
    await settle()
    clock.advance(0.049)
    inputs.poll()
    assert observer.calls == []
    clock.advance(0.001)
    inputs.poll()
    assert observer.calls == [(1, True)]
    factory.pin(17).drive_low()
    await settle()
    clock.advance(0.05)
    inputs.poll()
    assert observer.calls == [(1, True), (1, False)]
    inputs.close()


async def test_glitch_shorter_than_debounce_not_reported(factory, observer, clock):
    inputs = await started(factory, observer, clock)
    factory.pin(22).drive_high()
    await settle()
    clock.advance(0.03)
    inputs.poll()
    factory.pin(22).drive_low()
    await settle()
    clock.advance(1.0)
    inputs.poll()
    assert observer.calls == []
    inputs.close()


async def test_three_channels_independent(factory, observer, clock):
    inputs = await started(factory, observer, clock)
    factory.pin(17).drive_high()  # DI 1 at t
    await settle()
    clock.advance(0.02)
    factory.pin(22).drive_high()  # DI 3 at t + 0.02
    await settle()
    clock.advance(0.03)  # t + 0.05: DI 1 held, DI 3 not yet
    inputs.poll()
    assert observer.calls == [(1, True)]
    factory.pin(17).drive_low()  # a DI 1 glitch must not touch DI 3
    await settle()
    clock.advance(0.02)  # t + 0.07: DI 3 held
    inputs.poll()
    assert observer.calls == [(1, True), (3, True)]
    clock.advance(0.03)
    inputs.poll()
    assert observer.calls == [(1, True), (3, True), (1, False)]
    assert inputs.states() == {1: False, 2: False, 3: True}
    inputs.close()


async def test_edges_from_a_foreign_thread_reach_the_observer_on_the_loop_thread(factory, observer, clock):
    inputs = await started(factory, observer, clock)
    loop_thread = threading.get_ident()
    observer.threads.clear()
    # gpiozero's real factories call back from their own threads; the mock calls back on the driving thread.
    worker = threading.Thread(target=factory.pin(27).drive_high)
    worker.start()
    worker.join(timeout=5)
    await settle()
    clock.advance(0.05)
    inputs.poll()
    assert observer.calls == [(2, True)]
    assert observer.threads == {loop_thread}
    inputs.close()


async def test_run_reports_edges_and_transitions_only(factory, observer, clock):
    inputs = make(factory, observer, clock)
    with capture_logs() as logs:
        task = asyncio.create_task(inputs.run())
        await asyncio.wait_for(_calls(observer, 3), timeout=5)
        factory.pin(17).drive_high()
        await asyncio.wait_for(_calls(observer, 4), timeout=5)
        for _ in range(20):  # idle turns of the loop log nothing
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert observer.calls == [(1, False), (2, False), (3, False), (1, True)]
    changed = [e for e in logs if e["event"] == "di.changed"]
    assert [(e["channel"], e["active"]) for e in changed] == observer.calls
    assert not inputs.available  # run's exit released the pins
    DigitalInputDevice(17, pin_factory=factory).close()  # free again


async def _calls(observer: RecordingObserver, n: int) -> None:
    while len(observer.calls) < n:
        observer.changed.clear()
        await observer.changed.wait()


async def test_no_pin_factory_reports_inactive_and_keeps_running(observer, clock):
    config = dataclasses.replace(CONFIG, pin_factory="native")
    services = build_gpio_services(config, observer, clock, lambda: None)
    assert services.pin_factory is None  # no GPIO hardware on this machine
    with capture_logs() as logs:
        task = asyncio.create_task(services.inputs.run())
        await asyncio.wait_for(_calls(observer, 3), timeout=5)
        await settle()
        assert not task.done()  # the daemon keeps running
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert observer.calls == [(1, False), (2, False), (3, False)]
    errors = [e for e in logs if e["event"] == "gpio.unavailable"]
    assert len(errors) == 1 and errors[0]["log_level"] == "error"
    assert "native" in errors[0]["error"]
    services.close()


async def test_pin_already_in_use_reports_inactive(factory, observer, clock):
    squatter = DigitalInputDevice(DI_PINS[1], pin_factory=factory)
    inputs = make(factory, observer, clock)
    with capture_logs() as logs:
        assert not inputs.open()
    assert observer.calls == [(1, False), (2, False), (3, False)]
    assert [e["event"] for e in logs] == ["gpio.unavailable"]
    squatter.close()
    DigitalInputDevice(DI_PINS[0], pin_factory=factory).close()  # the pins it had claimed were released


async def test_callbacks_after_close_are_dropped(factory, observer, clock):
    inputs = await started(factory, observer, clock)
    inputs.close()
    factory.pin(17).drive_high()
    await settle()
    clock.advance(1.0)
    inputs.poll()
    assert observer.calls == []


def test_more_than_three_pins_refused(factory, observer, clock):
    with pytest.raises(ValueError):
        make(factory, observer, clock, dataclasses.replace(CONFIG, di_pins=(5, 6, 13, 19)))
