"""Golden whole-site scenarios (tests/golden/*.json, format in loader.py).

Each file is run through `compile_site` + `allocate`; every expected value
must match, and the failure message lists every difference, one per line.

Regenerating (only after a deliberate, reviewed rule change — never to create
the expected values of a new scenario, which are worked out by hand):

    EDGECTL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/golden

rewrites each file's `expected` block from the engine's current output
(same keys as before) and skips the comparison; review the `git diff`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from edgectl.core.engine import allocate
from edgectl.core.topology import compile_site
from edgectl.stationmodels import catalogue

from .loader import build_site, build_snapshot, build_state, load, scenario_files

UPDATE = os.environ.get("EDGECTL_UPDATE_GOLDEN") == "1"
ZONE_KEYS = ("limit", "used", "reserved", "degraded")


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else round(v, 2)


def actual_of(data: dict[str, Any]) -> dict[str, Any]:
    site = build_site(data["site"])
    alloc, _ = allocate(
        compile_site(site, catalogue()), build_snapshot(data["state"]), build_state(data.get("allocator_state"))
    )
    return {
        "connectors": {
            f"{c.station}:{c.connector}": {"setpoint": c.setpoint_a, "state": c.state.value} for c in alloc.connectors
        },
        "zones": {
            z.id: {
                "limit": [_num(v) for v in z.limit_a],
                "used": [_num(v) for v in z.used_a],
                "reserved": [_num(v) for v in z.reserved_a],
                "degraded": z.degraded,
            }
            for z in alloc.zones
        },
    }


def diff(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    lines = []
    exp_conns = expected.get("connectors", {})
    for key in sorted(set(exp_conns) | set(actual["connectors"])):
        if key not in exp_conns:
            lines.append(f"connector {key}: not in expected (got {actual['connectors'][key]})")
            continue
        got = actual["connectors"].get(key)
        if got is None:
            lines.append(f"connector {key}: expected but absent from the allocation")
            continue
        for field, want in exp_conns[key].items():
            if got.get(field) != want:
                lines.append(f"connector {key} {field}: expected {want!r}, got {got.get(field)!r}")
    for zid, want_zone in sorted(expected.get("zones", {}).items()):
        got_zone = actual["zones"].get(zid)
        if got_zone is None:
            lines.append(f"zone {zid}: expected but absent")
            continue
        for field, want in want_zone.items():
            if got_zone.get(field) != want:
                lines.append(f"zone {zid} {field}: expected {want!r}, got {got_zone.get(field)!r}")
    return lines


def _update(path: Path, data: dict[str, Any], actual: dict[str, Any]) -> None:
    exp = data["expected"]
    exp["connectors"] = {k: {f: v[f] for f in ("setpoint", "state")} for k, v in actual["connectors"].items()}
    exp["zones"] = {
        zid: {f: actual["zones"][zid][f] for f in (fields or ZONE_KEYS)}
        for zid, fields in ((z, list(exp.get("zones", {}).get(z, {}))) for z in actual["zones"])
        if zid in exp.get("zones", {})
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
def test_golden_scenario(path: Path):
    data = load(path)
    actual = actual_of(data)
    if UPDATE:
        _update(path, data, actual)
        pytest.skip(f"{path.name}: expected values regenerated")
    problems = diff(data["expected"], actual)
    assert not problems, f"{path.name} ({data.get('description', '')}):\n  " + "\n  ".join(problems)


def test_there_are_enough_scenarios():
    assert len(scenario_files()) >= 8
