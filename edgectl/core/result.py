"""What one allocation cycle decides, and why.

`limited_by` vocabulary (stable, machine-readable; documented in
docs/allocation.md):

connectors
- `zone:<id>:L<n>`   the zone's effective limit on grid phase n is what stopped
                     this connector rising (or admitting it at its minimum);
                     followed by that zone's own reasons except `max_current`
- `connector_max`    the connector is at its maximum current
- `car_max`          the car is known to accept no more
- `min_current`      suspended: its minimum current does not fit (a `zone:`
                     entry says where)
- `vip`              served first as a VIP (VIP card or VIP station)
- `ev_draw`          consumption optimisation accounts it at its measured draw
- `not_respecting`   its station draws clearly more than its setpoint: its own
                     setpoint is lowered by the excess
- `offline`          the station lost the controller: reserved at its fallback
- `status:<Status>`  idle because of its OCPP status (Available, Faulted, ...)

zones
- `max_current`      the static maximum
- `meter`            the dynamic budget (max - (meter - EV current))
- `degraded`         meter lost or stale: static at degraded_current
- `di:<channel>`     a digital input caps the zone
- `tou:<period>`     a time-of-use period caps the zone
- `remote`           a remote energy-management setpoint caps the zone
- `parent:<id>`      (connectors only carry the zone; zones report this when an
                     ancestor's limit is below their own)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from edgectl.core.phases import Phases


class ConnectorState(StrEnum):
    CHARGING = "charging"
    SUSPENDED = "suspended"
    IDLE = "idle"
    OFFLINE = "offline"


class ConnectorResult(NamedTuple):
    """Immutable; a NamedTuple because a cycle builds one per connector and a
    frozen dataclass costs several times more to construct."""

    station: str
    connector: int
    setpoint_a: int  # whole amps per phase; 0 = suspended / idle
    state: ConnectorState
    limited_by: tuple[str, ...]
    fallback_a: int  # what the station falls back to without the controller
    load_a: Phases  # what this connector is accounted for, per grid phase
    vip: bool = False
    min_current_a: int = 0
    max_current_a: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "station": self.station,
            "connector": self.connector,
            "setpoint": self.setpoint_a,
            "state": self.state.value,
            "limited_by": list(self.limited_by),
            "fallback": self.fallback_a,
            "load": _amps(self.load_a),
            "vip": self.vip,
            "min_current": self.min_current_a,
            "max_current": self.max_current_a,
        }


class ZoneResult(NamedTuple):
    id: str
    limit_a: Phases  # the zone's own effective limit
    used_a: Phases  # setpoints accounted in the subtree (excl. reservations)
    reserved_a: Phases  # fallback currents of offline stations in the subtree
    degraded: bool
    limited_by: tuple[str, ...]
    measured_a: Phases | None = None  # the zone meter, if dynamic and fresh

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "limit": _amps(self.limit_a),
            "used": _amps(self.used_a),
            "reserved": _amps(self.reserved_a),
            "degraded": self.degraded,
            "limited_by": list(self.limited_by),
            "measured": None if self.measured_a is None else _amps(self.measured_a),
        }


@dataclass(frozen=True, slots=True)
class Allocation:
    time: datetime
    connectors: tuple[ConnectorResult, ...]
    zones: tuple[ZoneResult, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "connectors": [c.as_dict() for c in self.connectors],
            "zones": [z.as_dict() for z in self.zones],
        }

    def setpoints(self) -> dict[tuple[str, int], int]:
        return {(c.station, c.connector): c.setpoint_a for c in self.connectors}


def _amps(p: Phases) -> list[float | int]:
    # Whole numbers print as ints so that JSON reads like the spec's examples.
    return [int(v) if float(v).is_integer() else round(v, 2) for v in p]
