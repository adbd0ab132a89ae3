"""The factory-reset bridge: the pure detector, then the service on mock pins with a FakeClock."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools

import pytest
from gpiozero.pins.mock import MockConnectedPin
from structlog.testing import capture_logs

from edgectl.adapters.gpio import ResetBridge
from edgectl.adapters.gpio.bridge import BridgeDetector, lfsr_bits

from .helpers import CONFIG

STEP_S = 0.1


# -- the pattern and the detector (pure) ---------------------------------------


def test_pattern_has_period_127_and_short_runs():
    bits = list(itertools.islice(lfsr_bits(), 127 * 2))
    assert bits[:127] == bits[127:]
    assert sum(bits[:127]) == 64  # maximal-length sequence: 64 ones, 63 zeros
    longest = max(len(list(g)) for _, g in itertools.groupby(bits))
    assert longest <= 7  # a stuck input matches at most 0.7 s at 10 steps/s


def feed(detector: BridgeDetector, pairs, start_s=0.0, step_s=STEP_S) -> list[float]:
    fired = []
    t = start_s
    for driven, read in pairs:
        t += step_s
        if detector.step(driven, read, t):
            fired.append(t)
    return fired


def following(n: int):
    return [(b, b) for b in itertools.islice(lfsr_bits(), n)]


def test_held_5_s_fires_once():
    d = BridgeDetector(hold_s=5.0)
    # proofs (high read while driven high) exactly 5.0 s apart, lows in between
    pairs = [(True, True), *[(False, False)] * 49, (True, True), *following(150)]
    fired = feed(d, pairs)
    assert fired == [pytest.approx(0.1 + 5.0)]


def test_held_4_9_s_does_not_fire():
    d = BridgeDetector(hold_s=5.0)
    pairs = [(True, True), *[(False, False)] * 48, (True, True), (True, False)]  # 4.9 s, then removed
    assert feed(d, pairs) == []


def test_low_steps_neither_start_nor_extend_a_hold():
    d = BridgeDetector(hold_s=5.0)
    # an open input "matches" every low step: 10 s of them prove nothing
    assert feed(d, [(False, False)] * 100) == []
    assert not d.present


def wire_for(n_steps: int, offset: int) -> bool:
    """A real wire present for n_steps reads, the input open (pull-down) before and after."""
    bits = list(itertools.islice(lfsr_bits(), offset + n_steps + 20))
    d = BridgeDetector(hold_s=5.0)
    fired = False
    for i, bit in enumerate(bits):
        wired = offset + 5 <= i < offset + 5 + n_steps
        fired |= d.step(bit, bit if wired else False, i * STEP_S)
    return fired


@pytest.mark.parametrize("offset", range(127))
def test_every_phase_of_the_pattern_needs_5_to_6_1_s_of_wire(offset):
    assert not wire_for(50, offset)  # 4.9 s between the first and last read: never
    assert wire_for(61, offset)  # 6.0-6.1 s: always


def test_released_and_held_again_fires_again():
    d = BridgeDetector(hold_s=5.0)
    pairs = [*following(70), (True, False), *following(70)]
    assert len(feed(d, pairs)) == 2


def test_stuck_high_input_never_fires():
    d = BridgeDetector(hold_s=5.0)
    pairs = [(b, True) for b in itertools.islice(lfsr_bits(), 1000)]
    assert feed(d, pairs) == []


# -- the service on mock pins ---------------------------------------------------


class Hook:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


@pytest.fixture
def bridge_pins(factory):
    """GPIO 7 as gpiozero's MockConnectedPin: pointing `input_pin` at GPIO 8 is the wire."""
    out_pin = factory.pin(7, pin_class=MockConnectedPin)
    in_pin = factory.pin(8)

    def wire(bridged: bool) -> None:
        out_pin.input_pin = in_pin if bridged else None
        if not bridged:
            in_pin.drive_low()

    return wire


async def steps_for(bridge: ResetBridge, clock, seconds: float) -> None:
    end = clock.monotonic() + seconds - 1e-9
    while clock.monotonic() < end:
        await bridge.step()


async def test_service_bridge_held_5_s_calls_hook_once(factory, clock, bridge_pins):
    hook = Hook()
    bridge = ResetBridge(CONFIG, clock, hook, pin_factory=factory)
    assert bridge.open()
    await steps_for(bridge, clock, 2.0)  # no bridge: nothing
    assert hook.calls == 0 and not bridge.present
    bridge_pins(True)
    with capture_logs() as logs:
        await steps_for(bridge, clock, 4.9)
        assert hook.calls == 0
        await steps_for(bridge, clock, 1.3)  # 6.2 s of wire: proven held 5 s whatever the pattern's phase
        assert hook.calls == 1
        await steps_for(bridge, clock, 10.0)  # still held: not again
    assert hook.calls == 1
    assert [e["event"] for e in logs] == ["reset.bridge_detected"]
    bridge.close()


async def test_service_bridge_held_4_9_s_does_not_call_hook(factory, clock, bridge_pins):
    hook = Hook()
    bridge = ResetBridge(CONFIG, clock, hook, pin_factory=factory)
    bridge_pins(True)
    await steps_for(bridge, clock, 4.9)  # wire for 4.9 s
    assert bridge.present
    bridge_pins(False)
    await steps_for(bridge, clock, 10.0)
    assert hook.calls == 0 and not bridge.present
    bridge.close()


async def test_service_released_and_held_again_calls_hook_again(factory, clock, bridge_pins):
    hook = Hook()
    bridge = ResetBridge(CONFIG, clock, hook, pin_factory=factory)
    bridge_pins(True)
    await steps_for(bridge, clock, 6.2)
    bridge_pins(False)
    await steps_for(bridge, clock, 1.0)
    bridge_pins(True)
    await steps_for(bridge, clock, 6.2)
    assert hook.calls == 2
    bridge.close()


async def test_service_stuck_high_input_not_detected(factory, clock):
    hook = Hook()
    bridge = ResetBridge(CONFIG, clock, hook, pin_factory=factory)
    assert bridge.open()
    factory.pin(8).drive_high()  # shorted to 3.3 V, no wire from GPIO 7
    await steps_for(bridge, clock, 60.0)
    assert factory.pin(8).state  # it really stayed high all along
    assert hook.calls == 0
    bridge.close()


async def test_service_awaits_an_async_hook(factory, clock, bridge_pins):
    done = asyncio.Event()

    async def hook() -> None:
        await asyncio.sleep(0)
        done.set()

    bridge = ResetBridge(CONFIG, clock, hook, pin_factory=factory)
    bridge_pins(True)
    await steps_for(bridge, clock, 6.2)
    assert done.is_set()
    bridge.close()


async def test_service_run_loop_and_close_leave_output_low(factory, clock, bridge_pins):
    hook = Hook()
    bridge = ResetBridge(CONFIG, clock, hook, pin_factory=factory)
    bridge_pins(True)
    task = asyncio.create_task(bridge.run())
    for _ in range(2000):  # FakeClock.sleep advances at once: 0.1 s per step
        await asyncio.sleep(0)
        if hook.calls:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert hook.calls == 1
    assert not factory.pin(7).state


async def test_service_without_gpio_logs_once_and_idles(clock):
    hook = Hook()
    bridge = ResetBridge(dataclasses.replace(CONFIG, pin_factory="native"), clock, hook, pin_factory=None)
    with capture_logs() as logs:
        task = asyncio.create_task(bridge.run())
        for _ in range(10):
            await asyncio.sleep(0)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [(e["event"], e["component"]) for e in logs] == [("gpio.unavailable", "reset_bridge")]
    assert not await bridge.step()
    assert hook.calls == 0
