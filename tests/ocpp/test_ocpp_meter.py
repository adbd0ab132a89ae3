"""MeterValues parsing: units, phases, measurands (table test)."""

from __future__ import annotations

from typing import Any

import pytest

from edgectl.adapters.ocpp.meter import Reading, parse_sampled_values, session_energy_wh
from edgectl.core.phases import Phases

E = "Energy.Active.Import.Register"
I = "Current.Import"  # noqa: E741
P = "Power.Active.Import"


def sv(value: str, measurand: str | None = None, **kw: Any) -> dict[str, Any]:
    out = {"value": value, **kw}
    if measurand is not None:
        out["measurand"] = measurand
    return out


@pytest.mark.parametrize(
    ("sampled", "three_phase", "expected"),
    [
        ([sv("1234")], True, Reading(energy_register_wh=1234)),  # measurand and unit default
        ([sv("1.5", E, unit="kWh")], True, Reading(energy_register_wh=1500)),
        ([sv("1.5", E, unit="KWH")], True, Reading(energy_register_wh=1500)),
        (
            [sv("100", E, phase="L1"), sv("200", E, phase="L2"), sv("300", E, phase="L3")],
            True,
            Reading(energy_register_wh=600),
        ),
        ([sv("100", E, phase="L1"), sv("999", E)], True, Reading(energy_register_wh=999)),  # the total wins
        (
            [sv("10.5", I, phase="L1", unit="A"), sv("11", I, phase="L2"), sv("12", I, phase="L3")],
            True,
            Reading(current_a=Phases(10.5, 11, 12)),
        ),
        (
            [sv("10", I, phase="L1-N"), sv("11", I, phase="L2-N"), sv("12", I, phase="L3-N"), sv("0.1", I, phase="N")],
            True,
            Reading(current_a=Phases(10, 11, 12), skipped=1),
        ),
        ([sv("16", I, phase="L2")], True, Reading(current_a=Phases(0, 16, 0))),
        ([sv("16", I)], False, Reading(current_a=Phases(16, 0, 0))),  # no phase, single-phase: L1
        ([sv("16", I)], True, Reading(current_a=Phases(16, 16, 16))),  # no phase, three-phase: per phase
        ([sv("7.4", P, unit="kW")], True, Reading(power_w=7400)),
        ([sv("2300", P, phase="L1"), sv("2300", P, phase="L2")], True, Reading(power_w=4600)),
        ([sv("55", "SoC", unit="Percent", location="EV")], True, Reading(soc_percent=55)),
        (
            [sv("16", "Current.Offered", phase="L1"), sv("20", "Current.Offered", phase="L2")],
            True,
            Reading(offered_a=20),
        ),
        (
            [sv("230", "Voltage", phase="L1-N"), sv("x", E), sv("NaN", E), sv("5", E, format="SignedData")],
            True,
            Reading(skipped=4),
        ),
        ([sv("20", I, location="Inlet"), sv("50", "Temperature", location="Body")], True, Reading(skipped=2)),
        (
            [sv("1", E, context="Vendor.Context"), sv("1", "Vendor.Measurand")],
            True,
            Reading(energy_register_wh=1, skipped=1),
        ),
        ([sv("3", I, unit="mA")], True, Reading(skipped=1)),  # unknown unit: not guessed
    ],
)
def test_parse_sampled_values(sampled: list[dict[str, Any]], three_phase: bool, expected: Reading) -> None:
    assert parse_sampled_values(sampled, three_phase) == expected


@pytest.mark.parametrize(
    ("register", "start", "energy"),
    [(1500.0, 1000, 500.0), (0.0, 0, 0.0), (900.0, 1000, 0.0), (None, 1000, None)],
)
def test_session_energy(register: float | None, start: int, energy: float | None) -> None:
    assert session_energy_wh(register, start) == energy
