"""Shared test helpers for the GPIO adapter."""

from __future__ import annotations

import asyncio
import threading

from edgectl.settings import GpioConfig

DI_PINS = (17, 27, 22)
CONFIG = GpioConfig(pin_factory="mock", di_pins=DI_PINS, reset_pins=(7, 8), debounce_s=0.05)


class RecordingObserver:
    """InputObserver at the port: records every call and the thread it came on."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, bool]] = []
        self.threads: set[int] = set()
        self.changed = asyncio.Event()

    def digital_input(self, channel: int, active: bool) -> None:
        self.calls.append((channel, active))
        self.threads.add(threading.get_ident())
        self.changed.set()


async def settle() -> None:
    """Let callbacks handed over with call_soon_threadsafe run (no clock time passes)."""
    for _ in range(3):
        await asyncio.sleep(0)
