"""GPIO: the digital inputs DI 1-3 and the factory-reset bridge (gpiozero).

`build_gpio_services` is the entry point for the supervisor; `DigitalInputs`
and `ResetBridge` are the two services. docs/inputs.md has the wiring.
"""

from edgectl.adapters.gpio.factory import GpioUnavailableError, open_pin_factory
from edgectl.adapters.gpio.inputs import DigitalInputs
from edgectl.adapters.gpio.reset import FactoryResetHook, ResetBridge
from edgectl.adapters.gpio.services import GpioServices, build_gpio_services

__all__ = [
    "DigitalInputs",
    "FactoryResetHook",
    "GpioServices",
    "GpioUnavailableError",
    "ResetBridge",
    "build_gpio_services",
    "open_pin_factory",
]
