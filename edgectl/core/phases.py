"""A per-grid-phase vector of amps (L1, L2, L3).

Everything in the core that is "per phase" uses this type instead of three
loose floats, so that the phase a number belongs to can never be lost.
"""

from __future__ import annotations

from typing import NamedTuple


class Phases(NamedTuple):
    """Amps on grid phases L1, L2, L3."""

    l1: float = 0.0
    l2: float = 0.0
    l3: float = 0.0

    @classmethod
    def uniform(cls, value: float) -> Phases:
        return cls(value, value, value)

    def __add__(self, other: object) -> Phases:
        if not isinstance(other, Phases):
            return NotImplemented
        return Phases(self.l1 + other.l1, self.l2 + other.l2, self.l3 + other.l3)

    def __sub__(self, other: Phases) -> Phases:
        return Phases(self.l1 - other.l1, self.l2 - other.l2, self.l3 - other.l3)

    def scaled(self, factor: float) -> Phases:
        return Phases(self.l1 * factor, self.l2 * factor, self.l3 * factor)

    def minimum(self, other: Phases) -> Phases:
        return Phases(min(self.l1, other.l1), min(self.l2, other.l2), min(self.l3, other.l3))

    def clamp_low(self, floor: float = 0.0) -> Phases:
        return Phases(max(self.l1, floor), max(self.l2, floor), max(self.l3, floor))

    def cap(self, ceiling: float) -> Phases:
        return Phases(min(self.l1, ceiling), min(self.l2, ceiling), min(self.l3, ceiling))

    def rounded(self, ndigits: int = 1) -> Phases:
        return Phases(round(self.l1, ndigits), round(self.l2, ndigits), round(self.l3, ndigits))


ZERO = Phases()
PHASE_NAMES = ("L1", "L2", "L3")
