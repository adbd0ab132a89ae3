"""Meter models as data: the register map of each meter type, checked on load.

Rules of this module:
- Built-in models live in edgectl/data/meter_models/<id>.toml, one per file,
  and must give both the vendor's 1-based register number (`register`) and
  the protocol address sent in the frame (`address` = register - 1). The two
  are checked against each other, so a file cannot silently mix conventions.
- Custom models ("custom:<name>") use the same schema; they may give either
  `register` or `address` (or both, consistent). They are validated, parsed
  and serialised as TOML text here; where they are stored is not our concern.
- Unknown keys are refused, types are checked, registers of one register type
  may not overlap. Errors name the origin (file), the entry and the field.
- `scale` x unit factor turns a raw register value into A / W / Wh:
  si = raw x scale x UNIT_FACTOR[unit]. `scale` is the vendor's multiplier
  (e.g. a register holding kW x 10 has unit "kW" and scale 0.1).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import tomli_w

from edgectl.adapters.modbus.codec import ByteOrder, DataType, WordOrder, register_count

REQUIRED_QUANTITIES = ("i1", "i2", "i3")
OPTIONAL_QUANTITIES = ("p1", "p2", "p3", "p_total", "energy")
QUANTITIES = REQUIRED_QUANTITIES + OPTIONAL_QUANTITIES

# Vendor unit -> factor to the SI unit we publish, per kind of quantity.
_UNITS: dict[str, dict[str, float]] = {
    "current": {"A": 1.0, "kA": 1000.0},
    "power": {"W": 1.0, "kW": 1000.0},
    "energy": {"Wh": 1.0, "kWh": 1000.0, "MWh": 1_000_000.0},
}
SI_UNIT = {"current": "A", "power": "W", "energy": "Wh"}

_TOP_KEYS = {"id", "name", "vendor", "description", "default_unit_id", "source", "quantities"}
_SOURCE_KEYS = {"documents", "verified", "unverified"}
_QUANTITY_KEYS = {"register", "address", "type", "word_order", "byte_order", "register_type", "unit", "scale"}
_CUSTOM_ID = re.compile(r"^custom:[a-z0-9][a-z0-9_-]{0,40}$")
_BUILTIN_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,40}$")


class MeterModelError(ValueError):
    pass


def quantity_kind(quantity: str) -> str:
    if quantity.startswith("i"):
        return "current"
    if quantity == "energy":
        return "energy"
    return "power"


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    """Where and how one quantity sits in the meter's register map."""

    quantity: str
    address: int  # protocol address, 0-based, as sent in the frame
    data_type: DataType
    register_type: str  # "holding" (FC3) | "input" (FC4)
    unit: str  # the vendor's unit of the raw value (after `scale`)
    scale: float = 1.0
    word_order: WordOrder = WordOrder.BIG
    byte_order: ByteOrder = ByteOrder.BIG

    @property
    def register(self) -> int:
        """The 1-based register number of the vendor documentation."""
        return self.address + 1

    @property
    def count(self) -> int:
        return register_count(self.data_type)

    @property
    def si_factor(self) -> float:
        """Multiply a raw decoded value by this to get A / W / Wh."""
        return self.scale * _UNITS[quantity_kind(self.quantity)][self.unit]


@dataclass(frozen=True, slots=True)
class MeterModel:
    id: str
    name: str
    quantities: Mapping[str, RegisterSpec]
    vendor: str = ""
    description: str = ""
    default_unit_id: int | None = None
    documents: tuple[str, ...] = ()
    verified: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def custom(self) -> bool:
        return self.id.startswith("custom:")


def _fail(origin: str, where: str, msg: str) -> MeterModelError:
    return MeterModelError(f"{origin}: {where}: {msg}")


def _str_list(origin: str, where: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(origin, where, "must be a list of strings")
    return tuple(value)


def _int(origin: str, where: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _fail(origin, where, f"must be an integer in {lo}..{hi}, got {value!r}")
    return value


def _choice(origin: str, where: str, value: object, choices: list[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _fail(origin, where, f"must be one of {choices}, got {value!r}")
    return value


def _parse_quantity(origin: str, model_id: str, name: str, raw: object, builtin: bool) -> RegisterSpec:
    where = f"quantities.{name}"
    if not isinstance(raw, dict):
        raise _fail(origin, where, "must be a table")
    unknown = set(raw) - _QUANTITY_KEYS
    if unknown:
        raise _fail(origin, where, f"unknown key(s) {sorted(unknown)}")
    register = raw.get("register")
    address = raw.get("address")
    if builtin and (register is None or address is None):
        raise _fail(origin, where, "built-in models give both 'register' (1-based) and 'address' (0-based)")
    if register is None and address is None:
        raise _fail(origin, where, "needs 'address' (0-based) or 'register' (1-based)")
    if register is not None:
        register = _int(origin, f"{where}.register", register, 1, 65536)
    if address is not None:
        address = _int(origin, f"{where}.address", address, 0, 65535)
    if register is not None and address is not None and address != register - 1:
        raise _fail(origin, where, f"address {address} is not register {register} - 1")
    if address is None:
        assert register is not None
        address = register - 1
    for required in ("type", "register_type", "unit"):
        if required not in raw:
            raise _fail(origin, where, f"missing '{required}'")
    data_type = DataType(_choice(origin, f"{where}.type", raw["type"], [d.value for d in DataType]))
    if address + register_count(data_type) > 65536:
        raise _fail(origin, where, "runs past the end of the register space")
    kind = quantity_kind(name)
    unit = _choice(origin, f"{where}.unit", raw["unit"], list(_UNITS[kind]))
    scale = raw.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < abs(scale) < 1e9:
        raise _fail(origin, f"{where}.scale", f"must be a non-zero number, got {scale!r}")
    return RegisterSpec(
        quantity=name,
        address=address,
        data_type=data_type,
        register_type=_choice(origin, f"{where}.register_type", raw["register_type"], ["holding", "input"]),
        unit=unit,
        scale=float(scale),
        word_order=WordOrder(_choice(origin, f"{where}.word_order", raw.get("word_order", "big"), ["big", "little"])),
        byte_order=ByteOrder(_choice(origin, f"{where}.byte_order", raw.get("byte_order", "big"), ["big", "little"])),
    )


def validate_model(data: Mapping[str, Any], origin: str = "<model>", builtin: bool = False) -> MeterModel:
    """Check a parsed TOML document and build the model, or raise MeterModelError."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _fail(origin, "model", f"unknown key(s) {sorted(unknown)}")
    model_id = data.get("id")
    if not isinstance(model_id, str):
        raise _fail(origin, "id", "must be a string")
    pattern = _BUILTIN_ID if builtin else _CUSTOM_ID
    if not pattern.match(model_id):
        expected = "lower-case letters, digits, '_'" if builtin else "'custom:<name>' (a-z, 0-9, '_', '-')"
        raise _fail(origin, "id", f"{model_id!r} must be {expected}")
    for key in ("name", "vendor", "description"):
        if key in data and not isinstance(data[key], str):
            raise _fail(origin, key, "must be a string")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise _fail(origin, "name", "is required")
    default_unit_id = data.get("default_unit_id")
    if default_unit_id is not None:
        default_unit_id = _int(origin, "default_unit_id", default_unit_id, 0, 255)
    source = data.get("source", {})
    if not isinstance(source, dict):
        raise _fail(origin, "source", "must be a table")
    if set(source) - _SOURCE_KEYS:
        raise _fail(origin, "source", f"unknown key(s) {sorted(set(source) - _SOURCE_KEYS)}")
    if builtin and not source.get("documents"):
        raise _fail(origin, "source.documents", "built-in models cite their sources")
    raw_quantities = data.get("quantities")
    if not isinstance(raw_quantities, dict):
        raise _fail(origin, "quantities", "must be a table")
    bad = set(raw_quantities) - set(QUANTITIES)
    if bad:
        raise _fail(origin, "quantities", f"unknown quantity(ies) {sorted(bad)}; known: {list(QUANTITIES)}")
    missing = [q for q in REQUIRED_QUANTITIES if q not in raw_quantities]
    if missing:
        raise _fail(origin, "quantities", f"missing {missing}")
    specs = {
        name: _parse_quantity(origin, model_id, name, raw_quantities[name], builtin)
        for name in QUANTITIES
        if name in raw_quantities
    }
    _check_overlaps(origin, specs)
    return MeterModel(
        id=model_id,
        name=data["name"],
        vendor=data.get("vendor", ""),
        description=data.get("description", ""),
        default_unit_id=default_unit_id,
        quantities=specs,
        documents=_str_list(origin, "source.documents", source.get("documents", [])),
        verified=_str_list(origin, "source.verified", source.get("verified", [])),
        unverified=_str_list(origin, "source.unverified", source.get("unverified", [])),
    )


def _check_overlaps(origin: str, specs: Mapping[str, RegisterSpec]) -> None:
    taken: dict[tuple[str, int], str] = {}
    for name, spec in specs.items():
        for a in range(spec.address, spec.address + spec.count):
            other = taken.get((spec.register_type, a))
            if other is not None:
                raise _fail(origin, f"quantities.{name}", f"overlaps '{other}' at address {a}")
            taken[(spec.register_type, a)] = name


def parse_model(text: str, origin: str = "<custom model>") -> MeterModel:
    """Parse one custom model from TOML text (an imported file)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MeterModelError(f"{origin}: not valid TOML: {exc}") from exc
    return validate_model(data, origin=origin, builtin=False)


def model_to_dict(model: MeterModel) -> dict[str, Any]:
    out: dict[str, Any] = {"id": model.id, "name": model.name}
    if model.vendor:
        out["vendor"] = model.vendor
    if model.description:
        out["description"] = model.description
    if model.default_unit_id is not None:
        out["default_unit_id"] = model.default_unit_id
    source = {
        k: list(v)
        for k, v in (("documents", model.documents), ("verified", model.verified), ("unverified", model.unverified))
        if v
    }
    if source:
        out["source"] = source
    out["quantities"] = {
        name: {
            "register": s.register,
            "address": s.address,
            "type": s.data_type.value,
            "word_order": s.word_order.value,
            "byte_order": s.byte_order.value,
            "register_type": s.register_type,
            "unit": s.unit,
            "scale": s.scale,
        }
        for name, s in model.quantities.items()
    }
    return out


def dump_model(model: MeterModel) -> str:
    """Serialise a model as TOML text (export); `parse_model` reads it back."""
    return tomli_w.dumps(model_to_dict(model))


@cache
def builtin_models() -> dict[str, MeterModel]:
    """Every built-in model file, checked, keyed by model id."""
    out: dict[str, MeterModel] = {}
    folder = resources.files("edgectl") / "data" / "meter_models"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        try:
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise MeterModelError(f"{entry.name}: not valid TOML: {exc}") from exc
        model = validate_model(data, origin=entry.name, builtin=True)
        if model.id + ".toml" != entry.name:
            raise MeterModelError(f"{entry.name}: id '{model.id}' does not match the file name")
        out[model.id] = model
    return out


def get_model(model_id: str, custom: Mapping[str, MeterModel] | None = None) -> MeterModel:
    """A built-in model or one of the given custom models, by id."""
    if model_id.startswith("custom:"):
        if custom is None or model_id not in custom:
            raise MeterModelError(f"unknown custom meter model {model_id!r}")
        return custom[model_id]
    models = builtin_models()
    if model_id not in models:
        raise MeterModelError(f"unknown meter model {model_id!r}; known: {sorted(models)}")
    return models[model_id]
