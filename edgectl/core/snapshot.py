"""An immutable picture of the site at one instant: what the allocator sees.

Adapters (OCPP, Modbus, GPIO, REST) write their observations between cycles;
the control loop freezes them into a `Snapshot`. Absence means the safe
reading: an absent meter is lost, an absent station is offline, an absent
input is inactive, an absent remote setpoint does not cap anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from edgectl.core.phases import Phases

# OCPP 1.6 ChargePointStatus values in which a connector takes current for a car.
WANTING_STATUSES = frozenset({"Charging", "SuspendedEV", "SuspendedEVSE"})


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One good sample of a zone meter, currents per grid phase."""

    current_a: Phases
    sampled_at: datetime | None = None  # None: taken at the snapshot's time
    power_w: float | None = None
    energy_wh: float | None = None


class ConnectorObservation(NamedTuple):
    # A NamedTuple, not a frozen dataclass: the control loop builds one per
    # connector whenever its station reports, and a tuple is built in a third
    # of the time.
    status: str = "Available"  # OCPP ChargePointStatus
    id_tag: str | None = None
    transaction_id: int | None = None
    started: datetime | None = None
    energy_wh: float = 0.0  # delivered in this session so far
    charging_s: float | None = None  # effective charge duration, if tracked
    current_a: Phases | None = None  # per *station-side* phase, as reported
    car_max_a: float | None = None  # what the car is known to accept, if known
    # The effective charge clock runs since then: its time up to the snapshot
    # is added to charging_s. So an observation stays true while a car
    # charges, and the loop rebuilds it only when the station reports.
    charging_since: datetime | None = None

    def charging_at(self, now: datetime) -> float | None:
        """The effective charge duration at `now`, if tracked."""
        if self.charging_s is None or self.charging_since is None:
            return self.charging_s
        return self.charging_s + max(0.0, (now - self.charging_since).total_seconds())

    @property
    def wants_current(self) -> bool:
        if self.status in WANTING_STATUSES:
            return True
        # A transaction that started before the first Charging status (Preparing
        # with a transaction) already wants current.
        return self.status == "Preparing" and self.transaction_id is not None


class StationObservation(NamedTuple):
    online: bool = True
    connectors: Mapping[int, ConnectorObservation] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Snapshot:
    time: datetime  # timezone-aware
    meters: Mapping[str, MeterReading] = field(default_factory=dict)
    digital_inputs: Mapping[int, bool] = field(default_factory=dict)
    remote_setpoints_a: Mapping[str, float] = field(default_factory=dict)
    stations: Mapping[str, StationObservation] = field(default_factory=dict)
