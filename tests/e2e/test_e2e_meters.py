"""End to end with a real Modbus meter: the loop is closed on measured load.

The daemon polls a simulated PM5320 over Modbus TCP on loopback; the meter
reads a building base load plus what the simulated cars really draw. The
digital inputs are gpiozero mock pins the test drives.
"""

from __future__ import annotations

from dataclasses import replace

from gpiozero.pins.mock import MockFactory

from edgectl.core.phases import Phases
from edgectl.core.site import Card, Connector, DigitalInput, Meter, Site, Station, Wiring, Zone, ZoneMode
from simulators.meter.physics import BaseLoadProfile

from .harness import FAST_CAR, eventually, free_port, running_site

DI_PINS = (17, 27, 22)  # GpioConfig defaults: DI 1-3


def metered_site(meter_port: int) -> Site:
    return Site(
        zones=(Zone("main", "Main", 100, ZoneMode.DYNAMIC, meter="m", degraded_current_a=30),),
        meters=(Meter("m", "pm5320", host="127.0.0.1", port=meter_port, unit_id=1),),
        stations=tuple(
            Station(f"S{i}", f"S{i}", "generic_ac", "main", (Connector(1, Wiring.TRI123, 32),)) for i in range(3)
        ),
        cards=tuple(Card(f"TAG{i}") for i in range(3)),
        digital_inputs=(DigitalInput(1, "Grid operator", True, 70), DigitalInput(2, "Load shedding", True, 50)),
    )


def total(run) -> int:
    return sum(run.setpoint(f"S{i}", 1) for i in range(3))


def near(run, budget_a: int) -> bool:
    """A meter-bound share: never above the budget, and close below it (the
    cars' reports lag the meter, so the loop settles from below)."""
    return budget_a - 6 <= total(run) <= budget_a


async def test_building_load_meter_loss_and_inputs(tmp_path):
    base = BaseLoadProfile(fixed_a=Phases(20, 20, 20))
    factory = MockFactory()
    async with running_site(metered_site(free_port()), tmp_path, base_load=base, pin_factory=factory) as run:
        meter = run.sim.meters["m"]
        zone = lambda: run.components.loop.last.allocation.zones[0]  # noqa: E731
        for i in range(3):
            run.station(f"S{i}").plug_in(1, FAST_CAR, f"TAG{i}")
        # Building 20 A: the cars may have 80 A per phase.
        await eventually(lambda: near(run, 80) and not zone().degraded, 30, "80 A shared")

        # The building load rises: the EVs' share drops by as much.
        meter.physics.profile = replace(base, fixed_a=Phases(50, 50, 50))
        await eventually(lambda: near(run, 50), 30, "setpoints drop with the building load")
        await eventually(
            lambda: all(run.station(f"S{i}").effective_limit_a(1) == run.setpoint(f"S{i}", 1) for i in range(3)),
            what="stations enforce the lower setpoints",
        )

        # The meter stops answering: degraded_current (30 A) within one timeout.
        meter.set_fault("silent")
        await eventually(lambda: zone().degraded and total(run) == 30, 20, "degraded mode")
        meter.set_fault("none")
        await eventually(
            lambda: not zone().degraded, 30,
            f"back to the meter ({run.components.pollers[0].health})",
        )
        await eventually(lambda: near(run, 50), 30, "50 A shared again")

        # DI 1 (70 %): the zone is capped at 70 A; the meter budget (50 A) is lower and wins.
        meter.physics.profile = replace(base, fixed_a=Phases(10, 10, 10))
        await eventually(lambda: near(run, 90), 30, "90 A with a 10 A building")
        factory.pin(DI_PINS[0]).drive_high()
        await eventually(lambda: tuple(zone().limit_a) == (70, 70, 70) and total(run) == 70, 20, "DI 1 caps at 70 %")
        assert "di:1" in zone().limited_by
        # Two inputs: the lowest percentage applies.
        factory.pin(DI_PINS[1]).drive_high()
        await eventually(lambda: total(run) == 50 and "di:2" in zone().limited_by, 20, "DI 2 caps at 50 %")
        factory.pin(DI_PINS[0]).drive_low()
        factory.pin(DI_PINS[1]).drive_low()
        await eventually(lambda: near(run, 90), 30, "inputs released")
