"""`edgectl plan --site FILE --state FILE`: output shape, SPEC's worked example, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edgectl.cli import main

ROOT = Path(__file__).parents[2]
SPEC_SITE = ROOT / "tests" / "sitefile" / "spec_site.toml"
SPEC_STATE = ROOT / "tests" / "sitefile" / "spec_state.json"

# SPEC §2 "Degraded mode", the product manual's worked example.
WORKED_SITE = """
[[zones]]
id = "z"
name = "51 A board"
max_current = 51

[[stations]]
id = "P1"
name = "Parking 1"
model = "evlink_parking"
zone = "z"
connectors = [
  { id = 1, wiring = "TRI123", max_current = 32, socket = "T2" },
  { id = 2, wiring = "TRI123", max_current = 32, socket = "T2" },
]

[[stations]]
id = "P2"
name = "Parking 2"
model = "evlink_parking"
zone = "z"
connectors = [
  { id = 1, wiring = "TRI123", max_current = 32, socket = "T2" },
  { id = 2, wiring = "TRI123", max_current = 32, socket = "T2" },
]

[[stations]]
id = "W1"
name = "Wallbox T2/TE"
model = "evlink_smart_wallbox"
zone = "z"
connectors = [{ id = 1, wiring = "TRI123", max_current = 32, socket = "T2/TE" }]
"""


def plan(tmp_path: Path, capsys: pytest.CaptureFixture[str], site: str, state: dict[str, Any]) -> dict[str, Any]:
    site_path, state_path = tmp_path / "site.toml", tmp_path / "state.json"
    site_path.write_text(site, encoding="utf-8")
    state_path.write_text(json.dumps(state), encoding="utf-8")
    code = main(["plan", "--site", str(site_path), "--state", str(state_path)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result: dict[str, Any] = json.loads(captured.out)
    return result


def test_spec_example_output_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--site", str(SPEC_SITE), "--state", str(SPEC_STATE)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["time", "connectors", "zones"]
    first = out["connectors"][0]
    assert list(first)[:5] == ["station", "connector", "setpoint", "state", "limited_by"]
    assert (first["station"], first["connector"], first["state"]) == ("S03", 1, "charging")
    assert [z["id"] for z in out["zones"]] == ["main", "floor1"]
    assert list(out["zones"][0])[:6] == ["id", "limit", "used", "reserved", "degraded", "limited_by"]
    assert out["zones"][1]["limit"] == [80, 80, 80]  # the remote setpoint caps floor1


def test_worked_example_fallbacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    online = {"online": True, "connectors": {}}
    state = {"time": "2026-11-23T09:30:00+01:00", "stations": {"P1": online, "P2": online, "W1": online}}
    out = plan(tmp_path, capsys, WORKED_SITE, state)
    fallbacks = [(c["station"], c["connector"], c["fallback"]) for c in out["connectors"]]
    assert fallbacks == [("P1", 1, 9), ("P1", 2, 9), ("P2", 1, 9), ("P2", 2, 9), ("W1", 1, 15)]


def test_worked_example_one_parking_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    charging = {"status": "Charging", "energy_wh": 1000, "current": [20, 20, 20]}
    state = {
        "time": "2026-11-23T09:30:00+01:00",
        "stations": {  # P2 is absent: offline, reserved at its fallback
            "P1": {"connectors": {"1": charging, "2": charging}},
            "W1": {"connectors": {"1": charging}},
        },
    }
    out = plan(tmp_path, capsys, WORKED_SITE, state)
    (zone,) = out["zones"]
    assert zone["reserved"] == [18, 18, 18]
    setpoints = {(c["station"], c["connector"]): c["setpoint"] for c in out["connectors"]}
    assert {c["state"] for c in out["connectors"] if c["station"] == "P2"} == {"offline"}
    # The others share 51 - 2 x 9 = 33 A.
    assert setpoints[("P1", 1)] + setpoints[("P1", 2)] + setpoints[("W1", 1)] <= 33
    assert all(setpoints[k] > 0 for k in (("P1", 1), ("P1", 2), ("W1", 1)))


def _bad(tmp_path: Path, capsys: pytest.CaptureFixture[str], state: str, site: Path = SPEC_SITE) -> str:
    state_path = tmp_path / "state.json"
    state_path.write_text(state, encoding="utf-8")
    assert main(["plan", "--site", str(site), "--state", str(state_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    return captured.err


def test_bad_state_exit_2_naming_file_and_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = (
        SPEC_STATE.read_text(encoding="utf-8").replace('"S03"', '"S99"').replace('+01:00",\n  "meters', '",\n  "meters')
    )
    err = _bad(tmp_path, capsys, state)
    path = tmp_path / "state.json"
    assert f'{path}: top level: field "time": "2026-11-23T09:30:00" has no UTC offset' in err
    assert f'{path}: stations."S99": the site has no station "S99"' in err
    assert _bad(tmp_path, capsys, "{").startswith(f"{path}: file: not valid JSON")


def test_bad_site_or_missing_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site.toml"
    site.write_text('[site]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    err = _bad(tmp_path, capsys, "{}", site)
    assert err.startswith(f'{site}: [site]: field "timezone": "Mars/Olympus" is not an IANA time zone')
    err = _bad(tmp_path, capsys, "{}", tmp_path / "missing.toml")
    assert "missing.toml: file: cannot be read" in err
