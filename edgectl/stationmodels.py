"""The station-model catalogue: device knowledge as data.

Each file in edgectl/data/station_models/ describes one model. The allocator
needs only `StationModel` (minimum-current exceptions, DC or not); the OCPP
adapter reads the rest of the file (`[ocpp]`: configuration keys applied after
boot, profile quirks) through `load_raw`.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from edgectl.core.site import StationModel

_ALLOWED_KEYS = {"id", "name", "dc", "max_connectors", "min_current_a", "socket_min_current_a", "ocpp"}


class StationModelError(ValueError):
    pass


@cache
def load_raw() -> dict[str, dict[str, Any]]:
    """Every model file, parsed and checked, keyed by model id."""
    out: dict[str, dict[str, Any]] = {}
    folder = resources.files("edgectl") / "data" / "station_models"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        unknown = set(data) - _ALLOWED_KEYS
        if unknown:
            raise StationModelError(f"{entry.name}: unknown key(s) {sorted(unknown)}")
        for required in ("id", "name"):
            if not isinstance(data.get(required), str):
                raise StationModelError(f"{entry.name}: '{required}' must be a string")
        if data["id"] + ".toml" != entry.name:
            raise StationModelError(f"{entry.name}: id '{data['id']}' does not match the file name")
        out[data["id"]] = data
    return out


@cache
def catalogue() -> dict[str, StationModel]:
    models: dict[str, StationModel] = {}
    for model_id, data in load_raw().items():
        models[model_id] = StationModel(
            id=model_id,
            name=data["name"],
            dc=bool(data.get("dc", False)),
            min_current_a=data.get("min_current_a"),
            socket_min_current_a=dict(data.get("socket_min_current_a", {})),
            max_connectors=int(data.get("max_connectors", 2)),
        )
    return models
