"""Modbus meters: models as data, a pure register codec, a per-bus-locked poller.

The control loop uses `create_pollers` / `run_pollers` (or `MeterPoller`
directly), receives `MeterReading`s through its publish callback and reads
`MeterPoller.health` (state, last error, `last_good_at`, sample age).
"""

from edgectl.adapters.modbus.bus import BusConfig, BusRegistry, BusSettings, ModbusBus
from edgectl.adapters.modbus.codec import ByteOrder, CodecError, DataType, Garbage, WordOrder
from edgectl.adapters.modbus.health import HealthState, MeterHealth
from edgectl.adapters.modbus.models import (
    MeterModel,
    MeterModelError,
    RegisterSpec,
    builtin_models,
    dump_model,
    get_model,
    parse_model,
    validate_model,
)
from edgectl.adapters.modbus.poller import MeterPoller, create_pollers, run_pollers

__all__ = [
    "BusConfig",
    "BusRegistry",
    "BusSettings",
    "ByteOrder",
    "CodecError",
    "DataType",
    "Garbage",
    "HealthState",
    "MeterHealth",
    "MeterModel",
    "MeterModelError",
    "MeterPoller",
    "ModbusBus",
    "RegisterSpec",
    "WordOrder",
    "builtin_models",
    "create_pollers",
    "dump_model",
    "get_model",
    "parse_model",
    "run_pollers",
    "validate_model",
]
