"""Meter model files: every built-in loads, the schema refuses what it must, custom models round-trip."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from edgectl.adapters.modbus.models import (
    MeterModelError,
    builtin_models,
    dump_model,
    get_model,
    parse_model,
    validate_model,
)
from edgectl.adapters.modbus.plan import plan_blocks

SPEC_TABLE = {  # SPEC.md §4: vendor register numbers (1-based)
    "pm5320": (3000, 3002, 3004, 3060, 3204),
    "iem3x5x": (3000, 3002, 3004, 3060, 3204),
    "powertag": (3000, 3002, 3004, 3060, 3204),
    "nsx_legacy": (12016, 12017, 12018, 12041, 12050),
    "nsx": (1016, 1017, 1018, 1037, 2000),
    "mtz": (32028, 32030, 32032, 32078, 32096),
}


def test_every_model_of_the_spec_is_shipped() -> None:
    assert set(builtin_models()) == set(SPEC_TABLE)


@pytest.mark.parametrize("model_id", sorted(SPEC_TABLE))
def test_register_numbers_match_the_spec(model_id: str) -> None:
    q = builtin_models()[model_id].quantities
    got = (q["i1"].register, q["i2"].register, q["i3"].register, q["p_total"].register, q["energy"].register)
    assert got == SPEC_TABLE[model_id]
    for spec in q.values():
        assert spec.address == spec.register - 1


@pytest.mark.parametrize("model_id", sorted(SPEC_TABLE))
def test_files_cite_sources_and_state_what_is_unverified(model_id: str) -> None:
    m = builtin_models()[model_id]
    assert m.documents
    assert m.verified
    text = (resources.files("edgectl") / "data" / "meter_models" / f"{model_id}.toml").read_text()
    assert text.lstrip().startswith("#")  # the file opens with its citations


@pytest.mark.parametrize(
    ("model_id", "quantity", "si_factor"),
    [
        ("pm5320", "p_total", 1000.0),  # kW
        ("pm5320", "energy", 1.0),  # Wh
        ("powertag", "p_total", 1.0),  # W, unlike the PM5300
        ("nsx", "p_total", 100.0),  # kW x 10
        ("nsx", "energy", 1000.0),  # kWh
        ("mtz", "i1", 1.0),
    ],
)
def test_scales(model_id: str, quantity: str, si_factor: float) -> None:
    assert builtin_models()[model_id].quantities[quantity].si_factor == pytest.approx(si_factor)


def test_adjacent_registers_are_read_together() -> None:
    blocks = plan_blocks(get_model("pm5320"))
    assert [(b.address, b.count) for b in blocks] == [(2999, 6), (3053, 8), (3203, 4)]
    nsx = plan_blocks(get_model("nsx"))
    assert [(b.address, b.count) for b in nsx] == [(1015, 3), (1036, 1), (1999, 2)]


def _base() -> dict:
    return {
        "id": "custom:bench",
        "name": "Bench meter",
        "quantities": {
            "i1": {"address": 0, "type": "uint16", "register_type": "input", "unit": "A", "scale": 0.01},
            "i2": {"address": 1, "type": "uint16", "register_type": "input", "unit": "A", "scale": 0.01},
            "i3": {"register": 3, "type": "uint16", "register_type": "input", "unit": "A", "scale": 0.01},
            "energy": {"address": 10, "type": "uint32", "register_type": "holding", "unit": "kWh"},
        },
    }


def test_custom_model_round_trips_through_toml() -> None:
    model = validate_model(_base())
    text = dump_model(model)
    again = parse_model(text, origin="bench.toml")
    assert again == model
    assert again.quantities["i3"].address == 2
    assert tomllib.loads(text)["quantities"]["i3"]["register"] == 3


def test_builtin_models_export_and_reimport_as_custom() -> None:
    data = tomllib.loads(dump_model(get_model("mtz")))
    data["id"] = "custom:my-mtz"
    assert validate_model(data).quantities == get_model("mtz").quantities


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(colour="red"), "unknown key"),
        (lambda d: d["quantities"]["i1"].update(bits=16), "unknown key"),
        (lambda d: d["quantities"].update(i4=d["quantities"]["i1"]), "unknown quantity"),
        (lambda d: d["quantities"].pop("i2"), "missing"),
        (lambda d: d["quantities"]["i1"].update(type="float16"), "quantities.i1.type"),
        (lambda d: d["quantities"]["i1"].update(address="7"), "quantities.i1.address"),
        (lambda d: d["quantities"]["i1"].update(register=5, address=5), "is not register"),
        (lambda d: d["quantities"]["i1"].update(register_type="coil"), "register_type"),
        (lambda d: d["quantities"]["i1"].update(unit="kW"), "quantities.i1.unit"),
        (lambda d: d["quantities"]["i1"].update(scale=True), "scale"),
        (lambda d: d["quantities"]["i2"].update(address=0), "overlaps"),
        (lambda d: d.update(id="bench"), "custom:"),
        (lambda d: d.update(name=3), "name"),
    ],
)
def test_schema_refuses(mutate, message: str) -> None:
    data = _base()
    mutate(data)
    with pytest.raises(MeterModelError, match=message):
        validate_model(data, origin="bench.toml")


def test_builtin_files_need_both_numbering_conventions() -> None:
    data = tomllib.loads(dump_model(get_model("pm5320")))
    del data["quantities"]["i1"]["address"]
    with pytest.raises(MeterModelError, match="both"):
        validate_model(data, origin="pm5320.toml", builtin=True)


def test_bad_toml_is_named() -> None:
    with pytest.raises(MeterModelError, match=r"x\.toml: not valid TOML"):
        parse_model("id = ", origin="x.toml")


def test_unknown_models() -> None:
    with pytest.raises(MeterModelError):
        get_model("pm9999")
    with pytest.raises(MeterModelError):
        get_model("custom:nope", {})
