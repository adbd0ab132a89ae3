"""A station that draws clearly more than its setpoint for longer than the EV
reaction window has its own setpoint lowered by the excess (SPEC §3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from edgectl.core.engine import allocate
from edgectl.core.phases import Phases
from edgectl.core.site import Connector, Site, Station, Wiring, Zone
from edgectl.core.snapshot import ConnectorObservation, Snapshot, StationObservation
from edgectl.core.topology import compile_site
from edgectl.stationmodels import catalogue

T0 = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
SITE = Site(
    zones=(Zone("z", "Z", 40),),
    stations=(
        Station("A", "A", "generic_ac", "z", (Connector(1, Wiring.TRI123, 32),)),
        Station("B", "B", "generic_ac", "z", (Connector(1, Wiring.TRI123, 32),)),
    ),
)
TOPO = compile_site(SITE, catalogue())


def snap(at: datetime, a_draw: float, b_draw: float) -> Snapshot:
    def obs(draw: float, tx: int) -> ConnectorObservation:
        return ConnectorObservation("Charging", "T", tx, T0, 1000.0 * tx, current_a=Phases(draw, draw, draw))

    return Snapshot(at, stations={"A": StationObservation(True, {1: obs(a_draw, 1)}),
                                  "B": StationObservation(True, {1: obs(b_draw, 2)})})


def test_overdraw_within_reaction_window_changes_nothing():
    alloc, state = allocate(TOPO, snap(T0, 0, 0))
    assert alloc.setpoints() == {("A", 1): 20, ("B", 1): 20}
    alloc, state = allocate(TOPO, snap(T0 + timedelta(seconds=10), 26, 20), state)
    assert alloc.setpoints() == {("A", 1): 20, ("B", 1): 20}


def test_persistent_overdraw_lowers_only_the_offender_by_its_excess():
    alloc, state = allocate(TOPO, snap(T0, 0, 0))
    alloc, state = allocate(TOPO, snap(T0 + timedelta(seconds=5), 26, 20), state)
    alloc, state = allocate(TOPO, snap(T0 + timedelta(seconds=40), 26, 20), state)
    a = next(c for c in alloc.connectors if c.station == "A")
    assert a.setpoint_a == 14 and "not_respecting" in a.limited_by
    assert alloc.setpoints()[("B", 1)] == 20  # B keeps its fair share
    # Told 14 A it still draws 6 A on top: stable at 14, real draw = its 20 A share.
    alloc, state = allocate(TOPO, snap(T0 + timedelta(seconds=45), 20, 20), state)
    assert alloc.setpoints()[("A", 1)] == 14
    # Once it respects its setpoint again it gets its share back.
    alloc, state = allocate(TOPO, snap(T0 + timedelta(seconds=50), 14, 20), state)
    assert alloc.setpoints()[("A", 1)] == 20


def test_offender_below_its_minimum_is_suspended():
    alloc, state = allocate(TOPO, snap(T0, 0, 0))
    alloc, state = allocate(TOPO, snap(T0 + timedelta(seconds=1), 36, 20), state)
    alloc, state = allocate(TOPO, snap(T0 + timedelta(seconds=40), 36, 20), state)
    a = next(c for c in alloc.connectors if c.station == "A")
    assert a.setpoint_a == 0 and a.state.value == "suspended" and "not_respecting" in a.limited_by
