"""The box's digital inputs DI 1-3 (SPEC §2 "Digital inputs"): gpiozero in, debounced states out.

Rules:
- Channel n (1-3) is the n-th BCM pin of `GpioConfig.di_pins`. Active means
  driven at 3.3 V (high); the pin's pull-down makes an open (unwired) input
  read inactive.
- Every state is debounced (`debounce_s`, see debounce.py) on the injected
  clock; each debounced edge, and the first stable state of each channel at
  start, goes to `InputObserver.digital_input(channel, active)`. Only the
  allocator decides what an input means (enabled flag, percent).
- gpiozero calls back from its own threads: a callback only hands the raw
  level to the event loop (`call_soon_threadsafe`); the debouncer and the
  observer are touched on the loop thread only.
- No GPIO (the pin factory or a pin cannot be opened): one `gpio.unavailable`
  error event, every channel reported inactive once, and the service idles
  until shutdown — the daemon keeps running without the inputs.
- Events on transitions only: `di.changed`, never per poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from functools import partial
from typing import Any

import structlog
from gpiozero import DigitalInputDevice
from gpiozero.pins import Factory

from edgectl.adapters.gpio.debounce import Debouncer
from edgectl.clock import Clock
from edgectl.ports import InputObserver
from edgectl.settings import GpioConfig

log = structlog.get_logger("edgectl.gpio")

MAX_CHANNELS = 3


class DigitalInputs:
    """A supervisor service: `name` + `run()`; `close()` releases the pins.

    `pin_factory` None means "this box has no usable GPIO" (see
    `build_gpio_services`); tests and the demo pass a MockFactory.
    """

    name = "gpio.inputs"

    def __init__(
        self,
        config: GpioConfig,
        observer: InputObserver,
        clock: Clock,
        *,
        pin_factory: Factory | None,
        unavailable_reason: str = "no pin factory",
    ) -> None:
        if len(config.di_pins) > MAX_CHANNELS:
            raise ValueError(f"at most {MAX_CHANNELS} digital inputs, got {len(config.di_pins)} pins")
        self._config = config
        self._observer = observer
        self._clock = clock
        self._factory = pin_factory
        self._unavailable_reason = unavailable_reason
        self._debouncers = {ch: Debouncer(config.debounce_s) for ch in self.channels}
        self._devices: dict[int, DigitalInputDevice] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._opened = False
        self.available = False

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(range(1, len(self._config.di_pins) + 1))

    def states(self) -> dict[int, bool | None]:
        """The last reported (debounced) state per channel; None before the first report."""
        return {ch: d.reported for ch, d in self._debouncers.items()}

    def open(self) -> bool:
        """Claim the pins and read the initial levels (call on the event loop).

        Returns whether the inputs are available; if not, every channel has
        been reported inactive already.
        """
        if self._opened:
            return self.available
        self._opened = True
        self._loop = asyncio.get_running_loop()
        if self._factory is None:
            return self._unavailable(self._unavailable_reason)
        try:
            for channel, pin in zip(self.channels, self._config.di_pins, strict=True):
                # pull_up=False: an internal pull-down, active high (3.3 V) as the box is wired
                device = DigitalInputDevice(pin, pull_up=False, pin_factory=self._factory)
                self._devices[channel] = device
                device.when_activated = partial(self._from_any_thread, channel, True)
                device.when_deactivated = partial(self._from_any_thread, channel, False)
        except Exception as exc:  # a pin in use, missing or refused: run without inputs
            self._close_devices()
            return self._unavailable(f"{type(exc).__name__}: {exc}")
        now_s = self._clock.monotonic()
        for channel, device in self._devices.items():
            self._debouncers[channel].observe(bool(device.value), now_s)
        self.available = True
        self._wake.set()
        return True

    def poll(self) -> None:
        """Report every debounced edge that became due by the clock's now (loop thread only)."""
        now_s = self._clock.monotonic()
        for channel, debouncer in self._debouncers.items():
            state = debouncer.due(now_s)
            if state is not None:
                log.info("di.changed", channel=channel, active=state, pin=self._config.di_pins[channel - 1])
                self._observer.digital_input(channel, state)

    async def run(self) -> None:
        """Until cancelled: wait for a raw edge or a debounce deadline, report what is due."""
        try:
            if not self.open():
                await asyncio.Future()  # no GPIO: stay a service, do nothing
            while True:
                self.poll()
                self._wake.clear()
                deadlines = [d for d in (db.deadline_s() for db in self._debouncers.values()) if d is not None]
                if not deadlines:
                    await self._wake.wait()
                    continue
                wait_s = max(0.0, min(deadlines) - self._clock.monotonic())
                # Sleep on the injected clock, but wake early on a new raw edge.
                await _first_of(self._clock.sleep(wait_s), self._wake.wait())
        finally:
            self.close()

    def close(self) -> None:
        """Release the pins; callbacks arriving afterwards are dropped."""
        self._close_devices()
        self.available = False

    # -- internals ---------------------------------------------------------

    def _from_any_thread(self, channel: int, active: bool) -> None:
        """gpiozero's callback, on whatever thread gpiozero uses: hand over, do nothing else."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._raw_edge, channel, active)
        except RuntimeError:  # the loop closed between the check and the call
            return

    def _raw_edge(self, channel: int, active: bool) -> None:
        if channel not in self._devices:
            return  # closed meanwhile
        self._debouncers[channel].observe(active, self._clock.monotonic())
        self._wake.set()

    def _unavailable(self, reason: str) -> bool:
        log.error("gpio.unavailable", component="digital_inputs", pin_factory=self._config.pin_factory, error=reason)
        # Fail visible: the inputs are reported inactive, as if unwired.
        for channel, debouncer in self._debouncers.items():
            debouncer.observe(False, self._clock.monotonic())
            debouncer.reported = False
            self._observer.digital_input(channel, False)
        return False

    def _close_devices(self) -> None:
        devices, self._devices = self._devices, {}
        for device in devices.values():
            device.when_activated = None
            device.when_deactivated = None
            device.close()


async def _first_of(*coroutines: Coroutine[Any, Any, Any]) -> None:
    """Await whichever finishes first; cancel and reap the others (owned here, never leaked)."""
    tasks = [asyncio.create_task(c) for c in coroutines]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
