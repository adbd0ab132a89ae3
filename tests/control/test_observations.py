"""SiteObservations.snapshot: each station's observation is rebuilt when
anything in it changed, and only then (a running charge clock is carried as
its start)."""

from __future__ import annotations

from datetime import timedelta

from edgectl.clock import FakeClock
from edgectl.control.observations import SiteObservations
from edgectl.core.phases import Phases

from .conftest import T0


def test_an_unchanged_idle_station_is_reused_and_every_report_rebuilds_it() -> None:
    clock = FakeClock(T0)
    obs = SiteObservations(clock.now)
    obs.station_connected("S1")
    obs.connector_status("S1", 1, "Available")
    first = obs.snapshot(clock.now()).stations["S1"]
    clock.advance(5)
    assert obs.snapshot(clock.now()).stations["S1"] is first  # nothing moved: the same object

    obs.connector_status("S1", 1, "Preparing")
    assert obs.snapshot(clock.now()).stations["S1"].connectors[1].status == "Preparing"
    obs.transaction_started("S1", 1, 7, "TAG", clock.now(), 0)
    seen = obs.snapshot(clock.now()).stations["S1"].connectors[1]
    assert (seen.transaction_id, seen.id_tag) == (7, "TAG")
    obs.meter_values("S1", 1, 7, 1500.0, Phases(0.0, 0.0, 0.0))
    assert obs.snapshot(clock.now()).stations["S1"].connectors[1].energy_wh == 1500.0
    obs.transaction_stopped("S1", 1, 7)
    assert obs.snapshot(clock.now()).stations["S1"].connectors[1].transaction_id is None
    obs.station_disconnected("S1")
    assert "S1" not in obs.snapshot(clock.now()).stations


def test_a_running_charge_clock_is_read_at_each_snapshot() -> None:
    clock = FakeClock(T0)
    obs = SiteObservations(clock.now)
    obs.station_connected("S1")
    obs.connector_status("S1", 1, "Charging")
    obs.transaction_started("S1", 1, 7, "TAG", clock.now(), 0)
    obs.meter_values("S1", 1, 7, 10.0, Phases(16.0, 16.0, 16.0))
    clock.advance(30)
    first = obs.snapshot(clock.now()).stations["S1"]
    assert first.connectors[1].charging_at(clock.now()) == 30.0
    clock.advance(12)
    again = obs.snapshot(clock.now()).stations["S1"]
    assert again is first  # no report in between: the same observation, read at the new time
    assert again.connectors[1].charging_at(clock.now()) == 42.0
    obs.meter_values("S1", 1, 7, 20.0, Phases(0.0, 0.0, 0.0))  # the car stops drawing: the clock stops
    clock.advance(100)
    stopped = obs.snapshot(clock.now()).stations["S1"].connectors[1]
    assert (stopped.charging_s, stopped.charging_since) == (42.0, None)
    assert stopped.charging_at(clock.now() + timedelta(hours=1)) == 42.0
