"""Operator pages against a running daemon with simulated stations."""

from __future__ import annotations

import time

from simulators.station import Car

from .conftest import login, shoot

CAR = Car(phases=3, max_current_a=32.0, capacity_wh=80_000.0, soc=0.3, response_delay_s=0.2)


def test_dashboard_live_update_when_a_car_plugs_in(page, site):
    login(page, "bob")
    page.wait_for_selector('#zone-tree [data-connector="S2-1"] .badge')
    page.wait_for_selector("#live-dot.on")
    assert page.locator('#zone-tree [data-connector="S2-1"] .badge').get_attribute("data-status") == "Available"
    page.evaluate("window.__noReload = true")
    t0 = time.perf_counter()
    site.call(lambda: site.sim.stations["S2"].plug_in(1, CAR, "TAG1"))
    page.wait_for_selector('#zone-tree [data-connector="S2-1"] .badge[data-status="Charging"]', timeout=10_000)
    elapsed = time.perf_counter() - t0
    assert page.evaluate("window.__noReload") is True  # no reload happened
    page.wait_for_selector('#ongoing-table [data-session="S2-1"]')
    shoot(page, "laptop-dashboard-charging")
    assert elapsed < 5.0, f"live update took {elapsed:.1f}s"
    assert page.js_errors == []
