"""One connector of a simulated station: car, transaction, meter (pure).

Rules:
- Status (OCPP 1.6 ChargePointStatus): Faulted > Unavailable (inoperative,
  no transaction) > during a transaction the car's state (Charging,
  SuspendedEVSE, SuspendedEV) > Finishing (transaction over, car still
  plugged) > Preparing (car plugged, no transaction yet) > Reserved >
  Available.
- The energy register (Wh) only grows; it counts every Wh the car takes.
- A meter sample carries Energy.Active.Import.Register, Current.Import per
  station terminal L1/L2/L3, Power.Active.Import, Current.Offered and SoC
  (when a car is plugged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulators.station.clock import iso
from simulators.station.ev import Ev


@dataclass
class Transaction:
    local_id: int
    id_tag: str
    meter_start_wh: int
    started: datetime
    transaction_id: int | None = None  # known once the central system answered
    samples: list[dict[str, Any]] = field(default_factory=list)  # for StopTransaction transactionData


@dataclass
class Reservation:
    reservation_id: int
    id_tag: str
    expiry: datetime


@dataclass
class Connector:
    id: int
    max_current_a: float = 32.0
    phases: int = 3  # station-side terminals wired: 1 or 3
    ev: Ev | None = None
    plug_id_tag: str | None = None  # the card swiped with the plug-in, if any
    tx: Transaction | None = None
    finished: bool = False
    meter_wh: float = 0.0
    operative: bool = True
    pending_inoperative: bool = False  # Inoperative requested during a transaction
    reservation: Reservation | None = None
    faulted: bool = False
    offered_a: float = 0.0
    sent_status: str | None = None

    def status(self) -> str:
        if self.faulted:
            return "Faulted"
        if not self.operative and self.tx is None:
            return "Unavailable"
        if self.tx is not None:
            return self.ev.state.value if self.ev is not None else "SuspendedEV"
        if self.ev is not None:
            return "Finishing" if self.finished else "Preparing"
        if self.reservation is not None:
            return "Reserved"
        return "Available"

    def phase_currents_a(self) -> tuple[float, float, float]:
        return self.ev.phase_currents_a if self.ev is not None else (0.0, 0.0, 0.0)

    def sample(self, now: datetime, context: str = "Sample.Periodic") -> dict[str, Any]:
        """One meterValue (snake_case, as the ocpp library sends it)."""

        def sv(value: float, measurand: str, unit: str, phase: str | None = None) -> dict[str, Any]:
            out = {"value": f"{value:.1f}" if unit != "Wh" else str(int(value)), "context": context,
                   "measurand": measurand, "location": "Outlet", "unit": unit}
            if phase:
                out["phase"] = phase
            return out

        values = [sv(self.meter_wh, "Energy.Active.Import.Register", "Wh")]
        values += [sv(i, "Current.Import", "A", f"L{n}") for n, i in enumerate(self.phase_currents_a(), 1)]
        values.append(sv(self.ev.power_w if self.ev else 0.0, "Power.Active.Import", "W"))
        values.append(sv(self.offered_a, "Current.Offered", "A"))
        if self.ev is not None:
            values.append(sv(self.ev.soc * 100, "SoC", "Percent"))
        return {"timestamp": iso(now), "sampled_value": values}
