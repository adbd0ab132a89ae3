"""Building the GPIO services for the supervisor, sharing one pin factory.

The factory is opened once here; if it fails (no GPIO hardware on this box)
both services are built without it and each reports `gpio.unavailable` and
idles: the daemon keeps running (inputs inactive, no hardware reset).
The caller closes the returned factory (if any) after the services stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from gpiozero.pins import Factory

from edgectl.adapters.gpio.factory import GpioUnavailableError, open_pin_factory
from edgectl.adapters.gpio.inputs import DigitalInputs
from edgectl.adapters.gpio.reset import FactoryResetHook, ResetBridge
from edgectl.clock import Clock
from edgectl.ports import InputObserver
from edgectl.settings import GpioConfig


@dataclass(frozen=True)
class GpioServices:
    inputs: DigitalInputs
    reset_bridge: ResetBridge
    pin_factory: Factory | None  # None: no GPIO on this box

    def close(self) -> None:
        self.inputs.close()
        self.reset_bridge.close()
        if self.pin_factory is not None:
            self.pin_factory.close()


def build_gpio_services(
    config: GpioConfig,
    observer: InputObserver,
    clock: Clock,
    on_factory_reset: FactoryResetHook,
    *,
    pin_factory: Factory | None = None,
) -> GpioServices:
    """`pin_factory` given (the demo shares its MockFactory with the simulator) or opened from `config`."""
    reason = "no pin factory"
    if pin_factory is None:
        try:
            pin_factory = open_pin_factory(config.pin_factory)
        except GpioUnavailableError as exc:
            reason = str(exc)
    return GpioServices(
        inputs=DigitalInputs(config, observer, clock, pin_factory=pin_factory, unavailable_reason=reason),
        reset_bridge=ResetBridge(config, clock, on_factory_reset, pin_factory=pin_factory, unavailable_reason=reason),
        pin_factory=pin_factory,
    )
