"""A station that draws clearly more than its setpoint for longer than the EV
reaction window has its own setpoint lowered by the excess (SPEC §3)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

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

    return Snapshot(
        at,
        stations={
            "A": StationObservation(True, {1: obs(a_draw, 1)}),
            "B": StationObservation(True, {1: obs(b_draw, 2)}),
        },
    )


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


def _snap_phases(at: datetime, a: tuple[float, float, float], b: float) -> Snapshot:
    def obs(current: tuple[float, float, float], tx: int) -> ConnectorObservation:
        return ConnectorObservation("Charging", "T", tx, T0, 1000.0 * tx, current_a=Phases(*current))

    return Snapshot(
        at,
        stations={"A": StationObservation(True, {1: obs(a, 1)}), "B": StationObservation(True, {1: obs((b, b, b), 2)})},
    )


NAN = math.nan


@pytest.mark.parametrize(
    ("why", "a_draws", "a_setpoint", "a_state"),
    [
        # Over on every phase past the window: cut by the excess (the reference case).
        ("known excess", (26.0, 26.0, 26.0), 14, "charging"),
        # A NaN on a loaded phase: what it draws there is unknown, so it cannot
        # be shown to respect its setpoint and no excess can be trusted: it is
        # cut by its whole maximum (suspended), whatever the other phases say,
        # wherever the NaN is in the report.
        ("NaN first, others over", (NAN, 26.0, 26.0), 0, "suspended"),
        ("NaN last, others over", (26.0, 26.0, NAN), 0, "suspended"),
        ("NaN, others within", (20.0, NAN, 20.0), 0, "suspended"),
        ("all NaN", (NAN, NAN, NAN), 0, "suspended"),
    ],
)
def test_nan_on_a_loaded_phase_past_the_window_never_gives_more(why, a_draws, a_setpoint, a_state):
    alloc, state = allocate(TOPO, snap(T0, 0, 0))
    alloc, state = allocate(TOPO, _snap_phases(T0 + timedelta(seconds=5), (26.0, 26.0, 26.0), 20), state)
    alloc, state = allocate(TOPO, _snap_phases(T0 + timedelta(seconds=40), a_draws, 20), state)
    a = next(c for c in alloc.connectors if c.station == "A")
    assert (a.setpoint_a, a.state.value) == (a_setpoint, a_state), why
    assert "not_respecting" in a.limited_by
    assert alloc.setpoints()[("B", 1)] == 20  # B keeps its fair share
    assert a.load_a == Phases(20.0, 20.0, 20.0)  # A keeps its share in the accounting: nobody gets more
    assert state.over_since[("A", 1)] == T0 + timedelta(seconds=5)


def test_nan_on_a_loaded_phase_within_the_window_starts_the_timer_only():
    alloc, state = allocate(TOPO, snap(T0, 0, 0))
    alloc, state = allocate(TOPO, _snap_phases(T0 + timedelta(seconds=5), (20.0, NAN, 20.0), 20), state)
    assert alloc.setpoints() == {("A", 1): 20, ("B", 1): 20}
    assert state.over_since == {("A", 1): T0 + timedelta(seconds=5)}
    # The report is whole again and within the setpoint: the timer stops.
    alloc, state = allocate(TOPO, _snap_phases(T0 + timedelta(seconds=40), (20.0, 20.0, 20.0), 20), state)
    assert alloc.setpoints() == {("A", 1): 20, ("B", 1): 20}
    assert state.over_since == {}


MONO_SITE = Site(
    zones=(Zone("z", "Z", 40),),
    stations=(Station("M", "M", "generic_ac", "z", (Connector(1, Wiring.MONO2, 32),)),),
)


def test_nan_on_a_phase_a_single_phase_wiring_does_not_load_is_ignored():
    topo = compile_site(MONO_SITE, catalogue())

    def at(seconds: int, current: tuple[float, float, float]) -> Snapshot:
        obs = ConnectorObservation("Charging", "T", 1, T0, 0.0, current_a=Phases(*current))
        return Snapshot(T0 + timedelta(seconds=seconds), stations={"M": StationObservation(True, {1: obs})})

    alloc, state = allocate(topo, at(0, (0.0, 0.0, 0.0)))
    assert alloc.setpoints() == {("M", 1): 32}
    alloc, state = allocate(topo, at(5, (30.0, NAN, NAN)), state)
    alloc, state = allocate(topo, at(40, (30.0, NAN, NAN)), state)
    assert alloc.setpoints() == {("M", 1): 32} and state.over_since == {}
    # Its one loaded terminal unknown past the window: suspended.
    alloc, state = allocate(topo, at(45, (40.0, 0.0, 0.0)), state)
    alloc, state = allocate(topo, at(80, (NAN, 0.0, 0.0)), state)
    m = alloc.connectors[0]
    assert (m.setpoint_a, m.state.value) == (0, "suspended") and "not_respecting" in m.limited_by
