"""Simulated time for the station simulator.

Rule: simulated time runs `scale` times faster than real time from `start`
(default: now). Every interval in the simulator (heartbeat, meter values, car
response delay, profile expiry) is in simulated seconds, so a test with
scale 10 sees a 3 s profile expire after 0.3 real seconds. The central system
under test must build its date-times from the same clock (`now()`).
Satisfies edgectl.clock.Clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SimClock:
    def __init__(
        self,
        scale: float = 1.0,
        start: datetime | None = None,
        real_monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if scale <= 0:
            raise ValueError("scale must be > 0")
        self.scale = scale
        self._start = start or datetime.now(UTC)
        self._real = real_monotonic
        self._t0 = real_monotonic()

    def monotonic(self) -> float:
        """Simulated seconds since the clock was made."""
        return (self._real() - self._t0) * self.scale

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.scale)


def iso(dt: datetime) -> str:
    """OCPP date-time: UTC with a Z and millisecond precision."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
