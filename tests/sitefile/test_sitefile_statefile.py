"""The plan state file (JSON) -> Snapshot, and its refusals."""

# ruff: noqa: E501  (the tables of cases read best one case per line)

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from edgectl.core.phases import Phases
from edgectl.core.site import Site
from edgectl.core.snapshot import ConnectorObservation
from edgectl.sitefile import SiteFileError, load_site_file
from edgectl.sitefile.statefile import load_state, load_state_file

HERE = Path(__file__).parent
PARIS_WINTER = timezone(timedelta(hours=1))


@pytest.fixture
def site() -> Site:
    return load_site_file(HERE / "spec_site.toml")


def spec_state() -> dict[str, Any]:
    return json.loads((HERE / "spec_state.json").read_text(encoding="utf-8"))


def errors(doc: Any, site: Site) -> list[str]:
    with pytest.raises(SiteFileError) as info:
        load_state(json.dumps(doc), "state.json", site)
    return info.value.messages


def test_spec_state_file(site: Site) -> None:
    snap = load_state_file(HERE / "spec_state.json", site)
    assert snap.time == datetime(2026, 11, 23, 9, 30, tzinfo=PARIS_WINTER)
    assert snap.meters["pm-main"].current_a == Phases(120.0, 80.5, 95.0)
    assert snap.digital_inputs == {1: False}
    assert snap.remote_setpoints_a == {"floor1": 80.0}
    s03 = snap.stations["S03"]
    assert s03.online
    assert s03.connectors[1] == ConnectorObservation(
        status="Charging",
        id_tag="EFR41DEZ",
        started=datetime(2026, 11, 23, 8, 10, tzinfo=PARIS_WINTER),
        energy_wh=5300.0,
        current_a=Phases(15.8, 15.9, 15.7),
    )
    assert s03.connectors[2] == ConnectorObservation(status="Available")


def test_minimal_state_and_single_phase_current(site: Site) -> None:
    doc = {
        "time": "2026-11-23T08:30:00Z",
        "stations": {"S03": {"connectors": {"2": {"status": "Charging", "current": [12]}}}},
    }
    snap = load_state(json.dumps(doc), "state.json", site)
    assert snap.meters == {} and snap.stations["S03"].connectors[2].current_a == Phases(12.0, 0.0, 0.0)


def _with(path: str, value: Any) -> dict[str, Any]:
    doc = spec_state()
    *parents, last = path.split("/")
    node: Any = doc
    for p in parents:
        node = node[p]
    if value is _DEL:
        del node[last]
    else:
        node[last] = value
    return doc


_DEL = object()
C1 = 'state.json: stations."S03".connectors."1"'
# fmt: off
CASES = [
    ("time missing", _with("time", _DEL), 'state.json: top level: field "time": missing (required)'),
    ("time naive", _with("time", "2026-11-23T09:30:00"), 'state.json: top level: field "time": "2026-11-23T09:30:00" has no UTC offset'),
    ("time garbage", _with("time", "tomorrow"), 'state.json: top level: field "time": "tomorrow" is not an ISO-8601 date-time'),
    ("unknown top key", _with("meter", {}), 'state.json: top level: field "meter": unknown key (did you mean "meters"?)'),
    ("unknown meter", _with("meters/pm-x", {"current": [1, 2, 3]}), 'state.json: meters."pm-x": the site has no meter "pm-x"'),
    ("meter two phases", _with("meters/pm-main", {"current": [1, 2]}), 'state.json: meters."pm-main": field "current": must be 3 currents in A'),
    ("meter unknown key", _with("meters/pm-main", {"current": [1, 2, 3], "voltage": 230}), 'state.json: meters."pm-main": field "voltage": unknown key'),
    ("unknown station", _with("stations/S99", {"online": True}), 'state.json: stations."S99": the site has no station "S99"'),
    ("unknown connector", _with("stations/S03/connectors/3", {"status": "Available"}), 'state.json: stations."S03".connectors."3": station S03 has no connector \'3\''),
    ("bad status", _with("stations/S03/connectors/1/status", "Charing"), f'{C1}: field "status": "Charing" is not one of Available, Preparing, Charging'),
    ("unknown connector key", _with("stations/S03/connectors/1/soc", 50), f'{C1}: field "soc": unknown key'),
    ("negative current", _with("stations/S03/connectors/1/current", [-1, 0, 0]), f'{C1}: field "current": [-1, 0, 0] has a negative current'),
    ("four currents", _with("stations/S03/connectors/1/current", [1, 1, 1, 1]), f'{C1}: field "current": must be 1 to 3 currents'),
    ("started after time", _with("stations/S03/connectors/1/started", "2026-11-23T10:00:00+01:00"), f'{C1}: field "started": 2026-11-23T10:00:00+01:00 is after'),
    ("online not bool", _with("stations/S03/online", "yes"), 'state.json: stations."S03": field "online": must be true or false, not a string'),
    ("unknown DI", _with("digital_inputs/2", True), "state.json: digital_inputs: field \"2\": the site has no digital input '2'"),
    ("DI not bool", _with("digital_inputs/1", 1), 'state.json: digital_inputs: field "1": must be true (active) or false, not an integer'),
    ("unknown zone setpoint", _with("remote_setpoints/floor2", 10), 'state.json: remote_setpoints: field "floor2": the site has no zone "floor2"'),
    ("negative setpoint", _with("remote_setpoints/floor1", -5), 'state.json: remote_setpoints: field "floor1": must be a current in A (>= 0), not -5'),
    ("energy as string", _with("stations/S03/connectors/1/energy_wh", "5300"), f'{C1}: field "energy_wh": must be a number, not a string'),
]
# fmt: on


@pytest.mark.parametrize(("doc", "expected"), [(d, e) for _n, d, e in CASES], ids=[n for n, _d, _e in CASES])
def test_refusals(site: Site, doc: dict[str, Any], expected: str) -> None:
    messages = errors(doc, site)
    assert any(m.startswith(expected) for m in messages), messages


def test_all_problems_together_and_json_quirks(site: Site) -> None:
    doc = _with("time", "soon")
    doc["stations"]["S03"]["connectors"]["1"]["status"] = "Broken"
    doc["meters"]["pm-x"] = {}
    assert len(errors(doc, site)) == 3
    with pytest.raises(SiteFileError, match=r'state\.json: file: field "time": appears twice'):
        load_state('{"time": "2026-11-23T09:30:00Z", "time": "2026-11-23T09:30:00Z"}', "state.json", site)
    with pytest.raises(SiteFileError, match=r"state\.json: file: not valid JSON"):
        load_state('{"time": ', "state.json", site)
    with pytest.raises(SiteFileError, match="not valid JSON: NaN is not a number"):
        load_state(
            '{"time": "2026-11-23T09:30:00Z", "meters": {"pm-main": {"current": [NaN, 1, 1]}}}', "state.json", site
        )
    assert errors([1, 2], site) == ["state.json: top level: must be a JSON object, not an array"]
