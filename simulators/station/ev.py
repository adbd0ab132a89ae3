"""A simulated electric vehicle behind one connector (pure, stepped by time).

Rules:
- The car acts on what the station offers only after `response_delay_s`
  (IEC 61851 gives a car up to 5 s to follow a PWM change; default 2 s).
- An offer below 6 A (or 0) suspends it: 0 A, state SuspendedEVSE.
- It draws min(offer, car maximum, taper) per phase; the taper falls linearly
  from the car maximum at `taper_from_soc` to `taper_min_a` at 100 % so the
  session ends; when full it draws 0 A, state SuspendedEV.
- Phases in use = min(car phases, connector phases, profile numberPhases).
  A single-phase car draws on station terminal L1 only (two-phase: L1, L2).
- Energy integrates P = 230 V x I x phases over each step.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

VOLTAGE_V = 230.0
MIN_CURRENT_A = 6.0


class EvState(StrEnum):
    CHARGING = "Charging"
    SUSPENDED_EVSE = "SuspendedEVSE"
    SUSPENDED_EV = "SuspendedEV"


@dataclass(frozen=True)
class Car:
    phases: int = 3
    max_current_a: float = 32.0
    capacity_wh: float = 60_000.0
    soc: float = 0.5
    taper_from_soc: float = 0.8
    taper_min_a: float = 1.0
    response_delay_s: float = 2.0


class Ev:
    def __init__(self, car: Car, connector_phases: int = 3) -> None:
        if car.phases not in (1, 2, 3):
            raise ValueError("a car has 1, 2 or 3 phases")
        self.car = car
        self.connector_phases = connector_phases
        self.soc = car.soc
        self.energy_wh = 0.0  # delivered to this car since plug-in
        self.current_a = 0.0  # per phase in use
        self.phases_in_use = 0
        self.state = EvState.SUSPENDED_EVSE
        self._t = 0.0
        # (time, offered amps, offered phases), oldest first; the car acts on the
        # newest entry at least response_delay_s old.
        self._offers: deque[tuple[float, float, int | None]] = deque()

    def demand_a(self) -> float:
        """What the car would take if offered without limit."""
        c = self.car
        if self.soc >= 1.0:
            return 0.0
        if self.soc <= c.taper_from_soc:
            return c.max_current_a
        share = (1.0 - self.soc) / max(1e-9, 1.0 - c.taper_from_soc)
        return max(c.taper_min_a, c.max_current_a * share)

    def step(self, dt_s: float, offered_a: float, offered_phases: int | None = None) -> None:
        """Advance dt_s seconds, then see the station's current offer."""
        if dt_s > 0 and self.current_a > 0:
            wh = VOLTAGE_V * self.current_a * self.phases_in_use * dt_s / 3600.0
            room = max(0.0, (1.0 - self.soc) * self.car.capacity_wh)
            wh = min(wh, room)
            self.energy_wh += wh
            self.soc = min(1.0, self.soc + wh / self.car.capacity_wh)
        self._t += max(0.0, dt_s)
        if not self._offers or self._offers[-1][1:] != (offered_a, offered_phases):
            self._offers.append((self._t, offered_a, offered_phases))
        seen: tuple[float, float, int | None] | None = None
        while self._offers and self._offers[0][0] <= self._t - self.car.response_delay_s:
            seen = self._offers.popleft()
        if seen is not None:
            # Keep the acted-on offer as the base for the next steps.
            self._offers.appendleft(seen)
            self._apply(seen[1], seen[2])
        elif self.soc >= 1.0:
            self._apply(0.0, None)

    def _apply(self, offered_a: float, offered_phases: int | None) -> None:
        demand = self.demand_a()
        if demand <= 0:
            self.current_a, self.phases_in_use, self.state = 0.0, 0, EvState.SUSPENDED_EV
        elif offered_a < MIN_CURRENT_A:
            self.current_a, self.phases_in_use, self.state = 0.0, 0, EvState.SUSPENDED_EVSE
        else:
            self.current_a = min(offered_a, demand)
            self.phases_in_use = min(self.car.phases, self.connector_phases, offered_phases or 3)
            self.state = EvState.CHARGING

    @property
    def phase_currents_a(self) -> tuple[float, float, float]:
        """Current per station terminal L1, L2, L3."""
        i = self.current_a
        n = self.phases_in_use
        return (i if n >= 1 else 0.0, i if n >= 2 else 0.0, i if n >= 3 else 0.0)

    @property
    def power_w(self) -> float:
        return VOLTAGE_V * self.current_a * self.phases_in_use
