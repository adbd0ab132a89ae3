"""Alarms on the dashboard, editable admin settings, and an operator limited to
a zone subtree (operator domain) in a real browser."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from edgectl.adapters.store import Alarm, Role, User
from edgectl.adapters.web.passwords import FAST_TEST_PARAMS, hash_password

from .conftest import login, shoot
from .server import PASSWORD, SiteThread


def _store(site: SiteThread) -> Any:
    assert site.components is not None
    return site.components.runtime.store


def _post_status(page: Any, path: str, body: dict[str, Any]) -> int:
    """A state-changing API call from the page itself (session cookie + CSRF token)."""
    return int(page.evaluate("""async ([path, body]) => {
        const r = await fetch("/api/v1" + path, {method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRF-Token": EC.cookie("edgectl_csrf")},
          body: JSON.stringify(body)});
        return r.status; }""", [path, body]))


def test_operator_domain_sees_and_acts_on_its_zone_only(page, site):
    store = _store(site)
    if site.run(store.users.get("zoe")) is None:
        site.run(store.users.create(User("zoe", hash_password(PASSWORD, FAST_TEST_PARAMS), Role.USER, "p1")))
    login(page, "zoe")
    page.wait_for_selector('#zone-tree [data-connector="S1-1"] .badge')
    # Only the p1 subtree: its zone, its station; nothing of main or p2.
    assert page.locator('#zone-tree li[data-zone="p1"]').count() == 1
    assert page.locator('#zone-tree li[data-zone="p2"], #zone-tree li[data-zone="main"]').count() == 0
    assert page.locator('#zone-tree [data-connector^="S2-"]').count() == 0
    page.wait_for_selector('#zone-bars .zone-bars[data-zone="p1"]')
    assert page.locator('#zone-bars .zone-bars:not([data-zone="p1"])').count() == 0
    shoot(page, "laptop-dashboard-operator-domain")
    # The other zone's station: not found, and no command reaches it.
    page.goto("/ui/station/S2")
    page.wait_for_selector("#flash.error")
    assert _post_status(page, "/stations/S2/commands", {"command": "soft_reset"}) == 404
    assert _post_status(page, "/stations/S1/commands", {"command": "soft_reset"}) == 200
    # Whole-site actions are refused even inside the domain.
    assert _post_status(page, "/meters", {"id": "x", "model": "pm5320"}) == 403
    assert page.js_errors == []


def test_alarm_on_the_dashboard_is_cleared_by_an_operator(page, site):
    store = _store(site)
    alarm, _ = site.run(store.alarms.raise_alarm(Alarm("connector_faulted", "S2", 1, code="GroundFailure",
                                                       message="Connector 1 faulted (GroundFailure)")))
    login(page, "bob")
    row = page.locator(f'#alarms-table tr[data-alarm="{alarm.id}"]')
    expect(row).to_contain_text("GroundFailure")
    expect(row).to_contain_text("Connector faulted")
    shoot(page, "laptop-dashboard-alarm")
    row.locator(f'[data-clear="{alarm.id}"]').click()
    page.wait_for_selector("#flash.ok")
    expect(page.locator(f'#alarms-table tr[data-alarm="{alarm.id}"]')).to_have_count(0)
    page.goto("/ui/alarms")
    history = page.locator(f'#alarm-table tr[data-alarm="{alarm.id}"]')
    expect(history).to_contain_text("cleared by bob")
    cleared = site.run(store.alarms.get(alarm.id))
    assert cleared is not None and cleared.cleared_by == "bob"
    assert page.js_errors == []


def test_admin_edits_security_and_network_settings(page, site):
    login(page, "alice")
    page.goto("/ui/admin/advanced")
    page.wait_for_selector("#security-form #inactivity_s")
    page.fill("#inactivity_s", "900")
    page.click("#security-form-save")
    page.wait_for_selector("#flash.ok")
    assert site.run(_store(site).box_settings.get("security"))["inactivity_s"] == 900
    page.fill("#inactivity_s", "30")  # below the minimum: refused next to the field
    page.click("#security-form-save")
    expect(page.locator('#security-form [data-error-for="inactivity_s"]')).not_to_be_empty()
    page.fill("#inactivity_s", "600")
    page.click("#security-form-save")
    page.wait_for_selector("#flash.ok")
    # Network: static address, rendered for the OS, applied on reboot.
    page.goto("/ui/admin/network")
    page.wait_for_selector("#net-form #dhcp")
    expect(page.locator("#net-reboot")).to_be_visible()
    page.uncheck("#dhcp")
    page.fill("#address", "192.168.1.10")
    page.fill("#netmask", "255.255.255.0")
    page.fill("#gateway", "10.0.0.1")
    page.click("#net-form-save")
    expect(page.locator('#net-form [data-error-for="gateway"]')).to_contain_text("outside the subnet")
    page.fill("#gateway", "192.168.1.1")
    page.click("#net-form-save")
    expect(page.locator("#net-rendered")).to_contain_text("Address=192.168.1.10/24")
    expect(page.locator("#net-file")).to_contain_text("10-edgectl-eth0.network")
    shoot(page, "laptop-admin-network-edited")
    # The CPO link says the relay is not built.
    page.goto("/ui/admin/supervision")
    expect(page.locator("#cpo-not-built")).to_be_visible()
    assert page.js_errors == []
