"""The factory-reset bridge service (SPEC §7 "Back to factory": GPIO 7-8 held ≥ 5 s).

Detection only: the scheme is in bridge.py. This module drives GPIO 7
(`reset_pins[0]`) with the pattern, reads GPIO 8 (`reset_pins[1]`) one
`step_s` later, and calls `on_factory_reset()` once per bridge held
`hold_s` on the injected clock (5.1-6.1 s of real bridge, see bridge.py).
What a reset deletes is not decided here.

Rules:
- One step = set the output, sleep `step_s` on the injected clock (the
  settle time), read the input. Tests call `step()` with a FakeClock.
- `reset.bridge_detected` is logged when the hold completes (a transition),
  never per step.
- No GPIO: one `gpio.unavailable` error event, then idle until shutdown.
- On close the output is left low and released, so the pin is not left
  driving a level into whatever is wired to it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterator

import structlog
from gpiozero import DigitalOutputDevice, InputDevice
from gpiozero.pins import Factory

from edgectl.adapters.gpio.bridge import HOLD_S, BridgeDetector, lfsr_bits
from edgectl.clock import Clock
from edgectl.settings import GpioConfig

log = structlog.get_logger("edgectl.gpio")

FactoryResetHook = Callable[[], Awaitable[None] | None]
STEP_S = 0.1  # 10 samples a second: a 5 s hold is 50 matching steps


class ResetBridge:
    name = "gpio.reset_bridge"

    def __init__(
        self,
        config: GpioConfig,
        clock: Clock,
        on_factory_reset: FactoryResetHook,
        *,
        pin_factory: Factory | None,
        unavailable_reason: str = "no pin factory",
        step_s: float = STEP_S,
        hold_s: float = HOLD_S,
    ) -> None:
        if step_s <= 0:
            raise ValueError("step_s must be positive")
        self._config = config
        self._clock = clock
        self._hook = on_factory_reset
        self._factory = pin_factory
        self._unavailable_reason = unavailable_reason
        self._step_s = step_s
        self._detector = BridgeDetector(hold_s)
        self._pattern: Iterator[bool] = lfsr_bits()
        self._out: DigitalOutputDevice | None = None
        self._in: InputDevice | None = None
        self._opened = False
        self.available = False

    @property
    def present(self) -> bool:
        return self._detector.present

    def open(self) -> bool:
        if self._opened:
            return self.available
        self._opened = True
        if self._factory is None:
            return self._unavailable(self._unavailable_reason)
        out_pin, in_pin = self._config.reset_pins
        try:
            self._in = InputDevice(in_pin, pull_up=False, pin_factory=self._factory)
            self._out = DigitalOutputDevice(out_pin, initial_value=False, pin_factory=self._factory)
        except Exception as exc:  # a pin in use, missing or refused: no reset bridge
            self.close()
            return self._unavailable(f"{type(exc).__name__}: {exc}")
        self.available = True
        return True

    async def step(self) -> bool:
        """One drive/settle/read step; True when this step completed a 5 s hold."""
        if not self.open() or self._out is None or self._in is None:
            return False
        driven = next(self._pattern)
        self._out.value = driven
        await self._clock.sleep(self._step_s)
        if self._in is None:  # closed while settling
            return False
        read = bool(self._in.value)
        now_s = self._clock.monotonic()
        if not self._detector.step(driven, read, now_s):
            return False
        held_s = round(self._detector.held_s, 3)
        log.warning("reset.bridge_detected", pins=list(self._config.reset_pins), held_s=held_s)
        result = self._hook()
        if inspect.isawaitable(result):
            await result
        return True

    async def run(self) -> None:
        try:
            if not self.open():
                await asyncio.Future()  # no GPIO: stay a service, do nothing
            while True:
                await self.step()
        finally:
            self.close()

    def close(self) -> None:
        out, self._out = self._out, None
        inp, self._in = self._in, None
        if out is not None:
            out.off()
            out.close()
        if inp is not None:
            inp.close()
        self.available = False

    def _unavailable(self, reason: str) -> bool:
        log.error("gpio.unavailable", component="reset_bridge", pin_factory=self._config.pin_factory, error=reason)
        return False
