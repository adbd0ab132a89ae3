"""Turn OCPP 1.6 sampledValue lists into one reading (pure).

Rules:
- Energy.Active.Import.Register (the default measurand) in Wh or kWh; a
  total (no phase) wins, otherwise the per-phase registers are summed.
- Current.Import per *station-side* phase: L1/L2/L3 and L1-N/L2-N/L3-N
  (the neutral and line-to-line phases are ignored). A value without a phase
  counts as L1 on a single-phase connector (or when the wiring is unknown)
  and as every phase on a three-phase connector -- a phase-less value on a
  three-phase meter is per phase in practice, and assuming one phase would
  make consumption optimisation believe the car is single-phase.
- Power.Active.Import in W or kW (total, or the sum of phases); SoC in %;
  Current.Offered (A per phase: the total, else the largest phase).
- Unknown measurands, contexts, locations other than Outlet/Cable/EV/unset
  (Inlet is the grid side, Body is a temperature), SignedData values and
  unreadable numbers are skipped, never an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from edgectl.core.phases import Phases

ENERGY = "Energy.Active.Import.Register"
CURRENT = "Current.Import"
POWER = "Power.Active.Import"
SOC = "SoC"
OFFERED = "Current.Offered"

_PHASE_INDEX = {"L1": 0, "L2": 1, "L3": 2, "L1-N": 0, "L2-N": 1, "L3-N": 2}
_SCALE = {"wh": 1.0, "kwh": 1000.0, "w": 1.0, "kw": 1000.0, "a": 1.0, "percent": 1.0}
_SKIPPED_LOCATIONS = {"Inlet", "Body"}


@dataclass(frozen=True, slots=True)
class Reading:
    energy_register_wh: float | None = None
    current_a: Phases | None = None  # per station-side phase
    power_w: float | None = None
    soc_percent: float | None = None
    offered_a: float | None = None
    skipped: int = 0  # sampled values ignored (unknown, unreadable)

    @property
    def empty(self) -> bool:
        return (
            self.energy_register_wh is None
            and self.current_a is None
            and self.power_w is None
            and self.soc_percent is None
            and self.offered_a is None
        )


def _number(sv: dict[str, Any], default_unit: str) -> float | None:
    if sv.get("format") == "SignedData":
        return None
    try:
        value = float(str(sv.get("value", "")).strip())
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    scale = _SCALE.get(str(sv.get("unit", default_unit)).lower())
    return None if scale is None else value * scale


class _Acc:
    """Totals and per-phase values of one measurand."""

    def __init__(self) -> None:
        self.total: float | None = None
        self.phases: list[float | None] = [None, None, None]

    def add(self, phase: str | None, value: float) -> bool:
        if phase is None:
            self.total = value
            return True
        index = _PHASE_INDEX.get(phase)
        if index is None:
            return False
        self.phases[index] = value
        return True

    def summed(self) -> float | None:
        if self.total is not None:
            return self.total
        present = [v for v in self.phases if v is not None]
        return sum(present) if present else None

    def largest(self) -> float | None:
        """For per-phase limits (offered current): the phases are not additive."""
        if self.total is not None:
            return self.total
        present = [v for v in self.phases if v is not None]
        return max(present) if present else None


def parse_sampled_values(sampled: list[dict[str, Any]], three_phase: bool) -> Reading:
    accs = {ENERGY: _Acc(), CURRENT: _Acc(), POWER: _Acc(), SOC: _Acc(), OFFERED: _Acc()}
    units = {ENERGY: "Wh", CURRENT: "A", POWER: "W", SOC: "Percent", OFFERED: "A"}
    skipped = 0
    for sv in sampled:
        measurand = sv.get("measurand", ENERGY)
        acc = accs.get(measurand)
        value = None if acc is None else _number(sv, units[measurand])
        if acc is None or value is None or sv.get("location") in _SKIPPED_LOCATIONS:
            skipped += 1
            continue
        phase = sv.get("phase")
        if not acc.add(phase if isinstance(phase, str) else None, value):
            skipped += 1
    return Reading(
        energy_register_wh=accs[ENERGY].summed(),
        current_a=_currents(accs[CURRENT], three_phase),
        power_w=accs[POWER].summed(),
        soc_percent=accs[SOC].largest(),
        offered_a=accs[OFFERED].largest(),
        skipped=skipped,
    )


def _currents(acc: _Acc, three_phase: bool) -> Phases | None:
    if any(v is not None for v in acc.phases):
        l1, l2, l3 = (v or 0.0 for v in acc.phases)
        return Phases(l1, l2, l3)
    if acc.total is None:
        return None
    if three_phase:
        return Phases.uniform(acc.total)
    return Phases(acc.total, 0.0, 0.0)


def session_energy_wh(register_wh: float | None, meter_start_wh: float) -> float | None:
    """Energy delivered in the session; never negative (meter reset, 0 Wh meters)."""
    if register_wh is None:
        return None
    return max(0.0, register_wh - meter_start_wh)
