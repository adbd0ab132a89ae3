"""End to end: the limits hold on the stations when the daemon dies, and
nothing is lost or duplicated when it comes back; offline stations are
reserved at their fallback."""

from __future__ import annotations

import asyncio

from edgectl.adapters.store import open_store
from edgectl.core.site import Card, Connector, Site, Station, Wiring, Zone
from simulators.site import SimSite

from .harness import FAST_CAR, DaemonProcess, config_for, eventually, free_port, import_site, running_site, write_config

LEASE_S = 4


def manual_site() -> Site:
    """SPEC's worked example: 51 A, two Parking (2 x T2) and a Smart Wallbox T2/TE."""
    t2 = (Connector(1, Wiring.TRI123, 32, "T2"), Connector(2, Wiring.TRI123, 32, "T2"))
    return Site(
        zones=(Zone("z", "Zone", 51),),
        stations=(
            Station("P1", "P1", "evlink_parking", "z", t2),
            Station("P2", "P2", "evlink_parking", "z", t2),
            Station("W", "W", "evlink_smart_wallbox", "z", (Connector(1, Wiring.TRI123, 32, "T2/TE"),)),
        ),
        cards=tuple(Card(f"TAG{i}") for i in range(5)),
    )


CONNECTORS = [("P1", 1), ("P1", 2), ("P2", 1), ("P2", 2), ("W", 1)]
FALLBACK = {("P1", 1): 9, ("P1", 2): 9, ("P2", 1): 9, ("P2", 2): 9, ("W", 1): 15}


async def test_sigkill_falls_back_on_the_stations_and_restart_loses_nothing(tmp_path):
    port = free_port()
    data_dir = tmp_path / "data"
    await import_site(config_for(data_dir, port), manual_site())
    config_path = tmp_path / "edgectl.toml"
    write_config(config_path, data_dir, port, LEASE_S)
    daemon = DaemonProcess(config_path)
    await daemon.start()
    sim = SimSite(manual_site(), f"ws://127.0.0.1:{port}/ocpp", tick_s=0.2, meter_interval_s=1)
    try:
        for st in sim.stations.values():
            await st.start()
        await asyncio.gather(*(st.wait_ready(20.0) for st in sim.stations.values()))
        for i, (sid, cid) in enumerate(CONNECTORS):
            sim.stations[sid].plug_in(cid, FAST_CAR, f"TAG{i}")

        def limits() -> dict[tuple[str, int], float]:
            return {(s, c): sim.stations[s].effective_limit_a(c) for s, c in CONNECTORS}

        # Live shares: 51 A over five connectors, whole amps, everyone charging.
        await eventually(lambda: sum(limits().values()) == 51 and min(limits().values()) >= 10, 20, "live shares")
        tx_before = {key: sim.stations[key[0]].connectors[key[1]].tx.transaction_id for key in CONNECTORS}

        await daemon.kill()
        # Nobody renews the leases: each station drops to its own fallback by itself.
        await eventually(lambda: limits() == FALLBACK, LEASE_S + 10, "fallback on every station")
        assert sum(limits().values()) == 51

        await daemon.start()
        await eventually(
            lambda: all(sim.stations[s].online for s, _c in CONNECTORS), 30, "stations reconnected"
        )
        await eventually(lambda: limits() != FALLBACK and sum(limits().values()) == 51, 20, "live shares again")
        tx_after = {key: sim.stations[key[0]].connectors[key[1]].tx.transaction_id for key in CONNECTORS}
        assert tx_after == tx_before
    finally:
        await sim.stop()
        await daemon.terminate()

    async with open_store(data_dir / "edgectl.db") as store:
        sessions = await store.sessions.open_sessions()
        assert sorted((s.station_id, s.connector_id) for s in sessions) == sorted(CONNECTORS)
        assert sorted(s.transaction_id for s in sessions) == sorted(tx_before.values())
        assert await store.integrity_check() == "ok"


def four_stations() -> Site:
    return Site(
        zones=(Zone("z", "Zone", 63),),
        stations=tuple(
            Station(f"S{i}", f"S{i}", "generic_ac", "z", (Connector(1, Wiring.TRI123, 32),)) for i in range(4)
        ),
        cards=tuple(Card(f"TAG{i}") for i in range(4)),
    )


async def test_offline_station_is_reserved_at_its_fallback_then_shares_again(tmp_path):
    # Fallback: 63 A over 4 x 6 A -> scale 2.625 -> 15 A each.
    async with running_site(four_stations(), tmp_path) as run:
        for i in range(3):
            run.station(f"S{i}").plug_in(1, FAST_CAR, f"TAG{i}")
        await eventually(lambda: [run.station(f"S{i}").effective_limit_a(1) for i in range(3)] == [21, 21, 21])
        await run.station("S2").go_offline()
        await eventually(lambda: run.setpoint("S0", 1) == 24 and run.setpoint("S1", 1) == 24, what="reservation")
        zone = run.components.loop.last.allocation.zones[0]
        assert tuple(zone.reserved_a) == (15, 15, 15)
        s2 = next(c for c in run.components.loop.last.allocation.connectors if c.station == "S2")
        assert s2.state.value == "offline" and s2.setpoint_a == 15
        # The offline station itself falls back when its lease lapses; its session is kept.
        assert run.components.observations.transactions()[("S2", 1)] is not None
        await run.station("S2").go_online()
        await eventually(lambda: [run.station(f"S{i}").effective_limit_a(1) for i in range(3)] == [21, 21, 21])
