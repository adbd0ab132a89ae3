"""Building the gpiozero pin factory named in `[gpio] pin_factory`.

Rules:
- The factory is built explicitly and handed to every device (`pin_factory=`),
  never taken from gpiozero's process-wide default or GPIOZERO_PIN_FACTORY:
  tests and the demo then each get their own, isolated mock pins.
- "mock" is gpiozero's MockFactory (tests, demo). Any other name is looked up
  in gpiozero's own registry of factories ("native", "lgpio", "rpigpio",
  "pigpio"), case-insensitively, as gpiozero itself does.
- Any failure (unknown name, library missing, not a Raspberry Pi-like board,
  no /dev/gpiochip*) becomes one `GpioUnavailableError` with a message that
  names the factory: the caller decides to carry on without GPIO.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from gpiozero.pins import Factory
from gpiozero.pins.mock import MockFactory

_ENTRY_POINT_GROUP = "gpiozero_pin_factories"


class GpioUnavailableError(RuntimeError):
    """The pin factory (or a pin) cannot be opened on this machine."""


def open_pin_factory(name: str) -> Factory:
    """The pin factory called `name`; raises GpioUnavailableError."""
    key = name.strip().lower()
    if key == "mock":
        return MockFactory()
    candidates = [ep for ep in entry_points(group=_ENTRY_POINT_GROUP) if ep.name.lower() == key]
    if not candidates:
        known = sorted({ep.name for ep in entry_points(group=_ENTRY_POINT_GROUP)} | {"mock"})
        raise GpioUnavailableError(f"unknown GPIO pin factory {name!r} (one of {', '.join(known)})")
    try:
        factory = candidates[0].load()()
    except Exception as exc:  # ImportError, PinUnknownPi, OSError ...: all mean "no GPIO here"
        raise GpioUnavailableError(f"GPIO pin factory {name!r} unavailable: {type(exc).__name__}: {exc}") from exc
    if not isinstance(factory, Factory):
        raise GpioUnavailableError(f"GPIO pin factory {name!r} is not a gpiozero Factory")
    return factory
