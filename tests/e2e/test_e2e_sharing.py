"""End to end over real websockets: the daemon shares a zone among simulated cars.

The stations are `SimStation`s that apply charging profiles like real ones;
the assertions read what each station itself enforces (its effective limit),
not only what the controller decided.
"""

from __future__ import annotations

from dataclasses import replace

from edgectl.core.phases import Phases
from edgectl.core.site import Card, Connector, Site, Station, Wiring, Zone

from .harness import FAST_CAR, eventually, running_site


def zone_site(max_a: int, n: int, *, wiring: Wiring = Wiring.TRI123, vip_card: bool = False) -> Site:
    cards = [Card(f"TAG{i}") for i in range(n)]
    if vip_card:
        cards[0] = Card("TAG0", vip=True)
    return Site(
        zones=(Zone("z", "Zone", max_a),),
        stations=tuple(
            Station(f"S{i}", f"S{i}", "generic_ac", "z", (Connector(1, wiring, 32),)) for i in range(n)
        ),
        cards=tuple(cards),
    )


def limits(run, n):
    return [run.station(f"S{i}").effective_limit_a(1) for i in range(n)]


async def test_63a_zone_five_cars_fair_whole_amp_shares(tmp_path):
    async with running_site(zone_site(63, 5), tmp_path) as run:
        for i in range(5):
            run.station(f"S{i}").plug_in(1, FAST_CAR, f"TAG{i}")
        await eventually(lambda: sorted(limits(run, 5)) == [12, 12, 13, 13, 13], what="fair shares on the stations")
        # The cycle is published once every station has answered (a moment after they applied it).
        await eventually(lambda: sum(run.setpoint(f"S{i}", 1) for i in range(5)) == 63, what="published setpoints")
        # The cars really follow: each draws its share on all three phases.
        await eventually(
            lambda: all(abs(run.station(f"S{i}").drawn_current_a(1)[0] - limits(run, 5)[i]) < 0.6 for i in range(5)),
            what="cars drawing their share",
        )


async def test_sixth_car_below_minimum_sheds_the_one_with_most_energy(tmp_path):
    # 32 A: five cars get 6-7 A; a sixth would push everyone below 6 A.
    async with running_site(zone_site(32, 6), tmp_path) as run:
        def energy(i: int) -> float:
            snap = run.components.observations.snapshot(run.components.runtime.clock.now())
            st = snap.stations.get(f"S{i}")
            return st.connectors[1].energy_wh if st and 1 in st.connectors else 0.0

        # Arrivals a few seconds apart (meter values every 2 s): S0 has taken the most.
        for i in range(5):
            run.station(f"S{i}").plug_in(1, FAST_CAR, f"TAG{i}")
            await eventually(lambda i=i: energy(i) > 0, timeout_s=20, what=f"car {i} reports energy")
        assert energy(0) == max(energy(i) for i in range(5))
        run.station("S5").plug_in(1, FAST_CAR, "TAG5")
        # Energy priority: the newcomer is ranked first, S0 (plugged first, most energy) is suspended.
        await eventually(lambda: run.setpoint("S5", 1) >= 6 and run.setpoint("S0", 1) == 0, what="shedding")
        await eventually(lambda: run.station("S0").effective_limit_a(1) == 0, what="S0 suspended on the station")
        await eventually(lambda: run.station("S0").status(1) == "SuspendedEVSE", what="S0 reports SuspendedEVSE")
        alloc = run.components.loop.last.allocation
        s0 = next(c for c in alloc.connectors if c.station == "S0")
        assert s0.state.value == "suspended" and "min_current" in s0.limited_by
        assert sum(run.setpoint(f"S{i}", 1) for i in range(6)) <= 32


async def test_single_phase_car_on_mono2_loads_only_grid_l2(tmp_path):
    site = zone_site(32, 1, wiring=Wiring.MONO2)
    car = replace(FAST_CAR, phases=1)
    async with running_site(site, tmp_path) as run:
        run.station("S0").plug_in(1, car, "TAG0")
        await eventually(lambda: run.station("S0").effective_limit_a(1) == 32, what="32 A on the station")
        await eventually(lambda: run.station("S0").drawn_current_a(1)[0] > 30, what="the car draws")
        zone = run.components.loop.last.allocation.zones[0]
        assert zone.used_a == Phases(0, 32, 0)
        assert run.sim.grid_draw_a(["S0"]).l2 > 30
        assert run.sim.grid_draw_a(["S0"]).l1 == 0 and run.sim.grid_draw_a(["S0"]).l3 == 0


async def test_vip_card_gets_its_maximum(tmp_path):
    async with running_site(zone_site(63, 4, vip_card=True), tmp_path) as run:
        for i in range(4):
            run.station(f"S{i}").plug_in(1, FAST_CAR, f"TAG{i}")
        await eventually(lambda: run.station("S0").effective_limit_a(1) == 32, what="VIP at its maximum")
        await eventually(lambda: sorted(limits(run, 4)[1:]) == [10, 10, 11], what="the others share the rest")
