"""Synthetic whole sites, seeded: shared by tests and `bench/allocate.py`.

`synthetic_site(n)` builds about `n` connectors over 20 zones in 3 levels
(a dynamic metered root, 4 sub-boards, 15 leaves), mixed wirings, sockets and
models, ~10 % VIP stations; `synthetic_snapshot` makes every connector charge
with varied energies and a root meter reading consistent with the EV draw.
"""

from __future__ import annotations

import random
from datetime import timedelta

from edgectl.core.phases import Phases
from edgectl.core.site import (
    Card,
    Connector,
    Site,
    SiteSettings,
    Station,
    Wiring,
    Zone,
    ZoneMode,
)
from edgectl.core.snapshot import ConnectorObservation, MeterReading, Snapshot, StationObservation

from .build import T0

WIRINGS = tuple(Wiring)
MODELS = ("generic_ac", "evlink_parking", "evlink_pro_ac", "evlink_city", "evlink_smart_wallbox")
ROOT_METER = "m-root"


def _zones(n: int, rnd: random.Random) -> list[Zone]:
    root_max = max(100, 5 * n)
    zones = [Zone("root", "Main board", root_max, ZoneMode.DYNAMIC, None, ROOT_METER, root_max // 3)]
    leaf = 0
    for b in range(4):
        board_max = max(63, int(root_max * rnd.uniform(0.35, 0.6)))
        zones.append(Zone(f"b{b}", f"Board {b}", board_max, parent="root"))
        for _ in range(4 if b < 3 else 3):
            leaf_max = max(32, int(board_max * rnd.uniform(0.3, 0.6)))
            zones.append(Zone(f"l{leaf:02d}", f"Leaf {leaf}", leaf_max, parent=f"b{b}"))
            leaf += 1
    return zones


def synthetic_site(n_connectors: int, seed: int = 0, *, vip_share: float = 0.1) -> Site:
    rnd = random.Random(seed)
    zones = _zones(n_connectors, rnd)
    leaves = [z.id for z in zones if z.id.startswith("l")]
    stations: list[Station] = []
    made = 0
    i = 0
    while made < n_connectors:
        model = rnd.choice(MODELS)
        count = 1 if model == "evlink_smart_wallbox" else min(2, n_connectors - made)
        conns = []
        for c in range(1, count + 1):
            socket = "T2/TE" if model == "evlink_smart_wallbox" else rnd.choice(("T2", "T2", "T2", "TE"))
            wiring = rnd.choice(WIRINGS)
            if socket == "TE":
                wiring = rnd.choice((Wiring.MONO1, Wiring.MONO2, Wiring.MONO3))
            conns.append(Connector(c, wiring, rnd.choice((16, 32, 32)), socket))
        stations.append(
            Station(
                f"CS{i:05d}", f"Station {i}", model, leaves[i % len(leaves)], tuple(conns), vip=rnd.random() < vip_share
            )
        )
        made += count
        i += 1
    cards = (Card("VIPCARD1", vip=True), Card("STAFF1", vip=False))
    return Site(SiteSettings(name=f"synthetic-{n_connectors}"), tuple(zones), tuple(stations), cards=cards)


def synthetic_snapshot(site: Site, seed: int = 0, *, offline_share: float = 0.0, idle_share: float = 0.0) -> Snapshot:
    rnd = random.Random(seed + 1)
    ev_grid = [0.0, 0.0, 0.0]
    stations: dict[str, StationObservation] = {}
    for st in site.stations:
        if rnd.random() < offline_share:
            continue
        obs: dict[int, ConnectorObservation] = {}
        for c in st.connectors:
            if rnd.random() < idle_share:
                obs[c.id] = ConnectorObservation(status="Available")
                continue
            amps = float(rnd.randint(0, 16))
            station_side = (amps, amps, amps) if c.wiring.three_phase else (amps, 0.0, 0.0)
            for grid_phase, a in zip(c.wiring.grid_of_station_phase, station_side, strict=False):
                ev_grid[grid_phase] += a
            obs[c.id] = ConnectorObservation(
                status="Charging",
                id_tag=rnd.choice((None, None, "STAFF1", "vipcard1")),
                transaction_id=1,
                started=T0 - timedelta(minutes=rnd.randint(1, 600)),
                energy_wh=float(rnd.randint(0, 40_000)),
                current_a=Phases(*station_side),
            )
        stations[st.id] = StationObservation(True, obs)
    other = [rnd.uniform(5, 40) for _ in range(3)]
    meter = MeterReading(Phases(*(e + o for e, o in zip(ev_grid, other, strict=True))))
    return Snapshot(T0, {ROOT_METER: meter}, {}, {}, stations)
