"""How a simulated station of a given model behaves on OCPP.

Read from the `[ocpp]` table of edgectl/data/station_models/<id>.toml, the
same files the daemon uses, so the simulator and the adapter cannot drift:

- `vendor`, `charge_point_model`: what BootNotification says;
- `charging_rate_units`: ChargingScheduleAllowedChargingRateUnit ("A", "W");
- `profile_stack_level_max`: ChargeProfileMaxStackLevel;
- `supports_local_list`: Local Auth List Management feature profile;
- `setup_keys`: vendor configuration keys and the value each must hold before
  the station accepts charging profiles from an external controller. Until
  then SetChargingProfile is answered `Rejected`. `setup_keys_factory` gives
  their value out of the box (default "false").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgectl.stationmodels import load_raw


@dataclass(frozen=True)
class ModelBehaviour:
    id: str
    name: str
    dc: bool = False
    vendor: str = "Generic"
    charge_point_model: str = "OCPP 1.6J station"
    charging_rate_units: tuple[str, ...] = ("A", "W")
    max_stack_level: int = 8
    supports_local_list: bool = True
    setup_keys: dict[str, str] = field(default_factory=dict)
    setup_keys_factory: dict[str, str] = field(default_factory=dict)


def behaviour(model_id: str) -> ModelBehaviour:
    raw = load_raw()
    if model_id not in raw:
        raise KeyError(f"unknown station model {model_id!r}; known: {sorted(raw)}")
    data = raw[model_id]
    ocpp: dict[str, Any] = dict(data.get("ocpp", {}))
    setup = {str(k): str(v) for k, v in dict(ocpp.get("setup_keys", {})).items()}
    factory = {k: "false" for k in setup}
    factory.update({str(k): str(v) for k, v in dict(ocpp.get("setup_keys_factory", {})).items()})
    return ModelBehaviour(
        id=model_id,
        name=data["name"],
        dc=bool(data.get("dc", False)),
        vendor=str(ocpp.get("vendor", "Generic")),
        charge_point_model=str(ocpp.get("charge_point_model", data["name"])),
        charging_rate_units=tuple(ocpp.get("charging_rate_units", ("A", "W"))),
        max_stack_level=int(ocpp.get("profile_stack_level_max", 8)),
        supports_local_list=bool(ocpp.get("supports_local_list", True)),
        setup_keys=setup,
        setup_keys_factory=factory,
    )
