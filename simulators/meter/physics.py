"""Physical readings of a simulated zone meter.

Rules of this module:
- Current per grid phase = building base load (a daily curve plus seeded
  noise, or a fixed value) + the EV current set from outside
  (`set_ev_current`, the demo feeds the simulated stations' draw into it).
- Power per phase = V x I x PF; total = sum; energy integrates the total
  power over the time between samples and never runs backwards.
- Time is passed in (monotonic seconds and the local hour of day), so the
  physics is reproducible in tests; the server reads the real clock.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from edgectl.core.phases import Phases


@dataclass(frozen=True, slots=True)
class BaseLoadProfile:
    """Building load per phase over a day: night level, a daytime bump up to peak."""

    night_a: Phases = Phases(8.0, 6.0, 10.0)  # noqa: RUF009 - an immutable tuple
    peak_a: Phases = Phases(40.0, 35.0, 45.0)  # noqa: RUF009 - an immutable tuple
    day_start_h: float = 6.0
    day_end_h: float = 20.0
    noise_a: float = 1.0  # standard deviation of the noise per phase
    fixed_a: Phases | None = None  # set: ignore the curve and the noise (tests)

    def current_a(self, hour_of_day: float, rng: random.Random) -> Phases:
        if self.fixed_a is not None:
            return self.fixed_a
        span = self.day_end_h - self.day_start_h
        x = (hour_of_day - self.day_start_h) / span
        shape = math.sin(math.pi * x) if 0.0 <= x <= 1.0 else 0.0
        out = []
        for night, peak in zip(self.night_a, self.peak_a, strict=True):
            value = night + (peak - night) * shape + rng.gauss(0.0, self.noise_a)
            out.append(max(0.0, value))
        return Phases(out[0], out[1], out[2])


@dataclass(frozen=True, slots=True)
class PhysicalSample:
    current_a: Phases
    power_w: Phases
    power_total_w: float
    energy_wh: float

    def as_quantities(self) -> dict[str, float]:
        return {
            "i1": self.current_a.l1,
            "i2": self.current_a.l2,
            "i3": self.current_a.l3,
            "p1": self.power_w.l1,
            "p2": self.power_w.l2,
            "p3": self.power_w.l3,
            "p_total": self.power_total_w,
            "energy": self.energy_wh,
        }


class MeterPhysics:
    def __init__(
        self,
        profile: BaseLoadProfile | None = None,
        voltage_v: float = 230.0,
        power_factor: float = 0.95,
        energy_wh: float = 1_000_000.0,
        seed: int = 0,
    ) -> None:
        self.profile = profile or BaseLoadProfile()
        self.voltage_v = voltage_v
        self.power_factor = power_factor
        self.energy_wh = energy_wh
        self.ev_current_a = Phases()
        self._rng = random.Random(seed)
        self._last_mono_s: float | None = None

    def set_ev_current(self, current_a: Phases) -> None:
        self.ev_current_a = Phases(*(max(0.0, c) for c in current_a))

    def sample(self, mono_s: float, hour_of_day: float) -> PhysicalSample:
        current = self.profile.current_a(hour_of_day, self._rng) + self.ev_current_a
        power = current.scaled(self.voltage_v * self.power_factor)
        total = power.l1 + power.l2 + power.l3
        if self._last_mono_s is not None and mono_s > self._last_mono_s:
            # A zone meter on a consuming site: only delivered energy counts.
            self.energy_wh += max(0.0, total) * (mono_s - self._last_mono_s) / 3600.0
        self._last_mono_s = mono_s
        return PhysicalSample(current, power, total, self.energy_wh)
