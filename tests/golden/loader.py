"""Golden scenario files: a whole site and one instant in, setpoints out.

A scenario is one JSON object:

- `site`: the site file of SPEC §8 as JSON (same tables and keys as the TOML:
  `site`, `zones`, `stations`, `cards`, `tou`, `digital_inputs`; meters are
  implied by the zones' `meter` keys);
- `state`: the `edgectl plan` state file of SPEC §8, verbatim format; a meter
  may carry `"age_s"` (seconds since it was sampled) to make it stale;
- `allocator_state` (optional): `{"setpoints": {"S1:1": 40}}`, the last
  setpoints carried from the previous cycle (DC fallback);
- `expected`: per connector `"station:connector"` -> `setpoint` and `state`,
  per zone id -> any of `limit`, `used`, `reserved`, `degraded`.
  Values were worked out by hand from the SPEC rules; `why` says how.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from edgectl.core.phases import Phases
from edgectl.core.site import (
    Card,
    Connector,
    DigitalInput,
    MinCurrentPolicy,
    SheddingPriority,
    Site,
    SiteSettings,
    Station,
    Tou,
    TouPeriod,
    TouSlot,
    Wiring,
    Zone,
    ZoneMode,
)
from edgectl.core.snapshot import WANTING_STATUSES, ConnectorObservation, MeterReading, Snapshot, StationObservation
from edgectl.core.state import AllocatorState

HERE = Path(__file__).parent


def scenario_files() -> list[Path]:
    return sorted(HERE.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def build_site(d: dict[str, Any]) -> Site:
    s = d.get("site", {})
    settings = SiteSettings(
        name=s.get("name", "golden"),
        timezone=s.get("timezone", "UTC"),
        min_current=MinCurrentPolicy(s.get("min_current", "iec61851")),
        shedding_priority=SheddingPriority(s.get("shedding_priority", "energy")),
        rotation_minutes=s.get("rotation_minutes", 15),
        consumption_optimisation=s.get("consumption_optimisation", False),
    )
    zones = tuple(
        Zone(
            z["id"],
            z.get("name", z["id"]),
            z["max_current"],
            ZoneMode(z.get("mode", "static")),
            z.get("parent"),
            z.get("meter"),
            z.get("degraded_current", 0),
            tou_enabled=z.get("tou_enabled", True),
        )
        for z in d["zones"]
    )
    stations = tuple(
        Station(
            st["id"],
            st.get("name", st["id"]),
            st["model"],
            st["zone"],
            tuple(
                Connector(c["id"], Wiring(c["wiring"]), c["max_current"], c.get("socket", "T2"))
                for c in st["connectors"]
            ),
            vip=st.get("vip", False),
        )
        for st in d["stations"]
    )
    cards = tuple(
        Card(c["id_tag"], vip=c.get("vip", False), authorized=c.get("authorized", True)) for c in d.get("cards", [])
    )
    t = d.get("tou", {})
    periods = tuple(
        TouPeriod(
            p["name"],
            p["percent"],
            tuple(p["days"]),
            tuple(TouSlot(time.fromisoformat(a), time.fromisoformat(b)) for a, b in p["slots"]),
            p.get("enabled", True),
            tuple(p["zones"]) if "zones" in p else None,
        )
        for p in t.get("periods", [])
    )
    inputs = tuple(
        DigitalInput(i["channel"], i.get("name", ""), i.get("enabled", True), i["percent"])
        for i in d.get("digital_inputs", [])
    )
    return Site(settings, zones, stations, (), cards, Tou(t.get("enabled", False), periods), inputs)


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def build_snapshot(d: dict[str, Any]) -> Snapshot:
    at = datetime.fromisoformat(d["time"])
    meters = {
        mid: MeterReading(Phases(*m["current"]), sampled_at=at - timedelta(seconds=m.get("age_s", 0)))
        for mid, m in d.get("meters", {}).items()
    }
    stations = {}
    for sid, so in d.get("stations", {}).items():
        conns = {}
        for cid, c in so.get("connectors", {}).items():
            status = c.get("status", "Available")
            tx = 1 if status in WANTING_STATUSES or c.get("started") else None
            conns[int(cid)] = ConnectorObservation(
                status=status,
                id_tag=c.get("id_tag"),
                transaction_id=tx,
                started=_dt(c.get("started")),
                energy_wh=float(c.get("energy_wh", 0.0)),
                charging_s=c.get("charging_s"),
                current_a=Phases(*c["current"]) if "current" in c else None,
            )
        stations[sid] = StationObservation(so.get("online", True), conns)
    inputs = {int(k): bool(v) for k, v in d.get("digital_inputs", {}).items()}
    remote = {k: float(v) for k, v in d.get("remote_setpoints", {}).items()}
    return Snapshot(at, meters, inputs, remote, stations)


def build_state(d: dict[str, Any] | None) -> AllocatorState:
    if not d:
        return AllocatorState()
    sp = {(k.rsplit(":", 1)[0], int(k.rsplit(":", 1)[1])): int(v) for k, v in d.get("setpoints", {}).items()}
    return AllocatorState(setpoints=sp)
