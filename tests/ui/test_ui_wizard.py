"""The first-boot wizard in a real browser: factory state -> a running site."""

from __future__ import annotations

import json
import urllib.request

import pytest

from edgectl.adapters.store import Role
from edgectl.core.site import Site

from .conftest import login, new_page, shoot
from .server import FACTORY_PASSWORD, SiteThread, demo_site, free_port

ADMIN_PW, USER_PW = "Install3r!pw", "Operat0r!pw"


@pytest.fixture
def factory_site(tmp_path):
    sim = demo_site(free_port())
    thread = SiteThread(tmp_path, Site(), sim, {"factory": (Role.FACTORY, FACTORY_PASSWORD)}, wait_ready=False).start()
    try:
        yield thread
    finally:
        thread.stop()


def api_get(site, path, user, password):
    import base64

    req = urllib.request.Request(site.url + "/api/v1" + path, headers={
        "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_wizard_from_factory_state_to_a_running_site(browser, factory_site):
    page = new_page(browser, factory_site.url)
    try:
        login(page, "factory", FACTORY_PASSWORD, expect="**/ui/wizard")
        shoot(page, "laptop-wizard-credentials")
        # A weak password is refused next to its field, before anything is sent.
        page.fill("#admin-login", "installer")
        page.fill("#admin-password", "weak")
        page.fill("#user-login", "operator")
        page.fill("#user-password", USER_PW)
        page.click("#save-next")
        assert "8 characters" in page.locator('[data-error-for="admin_password"]').inner_text()
        page.fill("#admin-password", ADMIN_PW)
        page.click("#save-next")
        page.wait_for_url("**/ui/wizard?step=network")
        page.fill("#site-name", "Wizard park")
        page.click("#save-next")
        # Stations: both simulated stations have knocked on the door.
        page.wait_for_url("**/ui/wizard?step=stations")
        page.wait_for_selector('[data-detected="S1"]')
        page.wait_for_selector('[data-detected="S2"]')
        shoot(page, "laptop-wizard-stations")
        page.click("#register-detected")
        page.wait_for_selector('[data-detected="S2"] .st-available')
        page.click("#skip")
        page.wait_for_url("**/ui/wizard?step=meters")
        page.click("#skip")
        # Zones: a main board with two car parks.
        page.wait_for_url("**/ui/wizard?step=zones")
        for zid, name, parent, amps in (("main", "Main board", "", "100"), ("p1", "Parking P1", "main", "63"),
                                        ("p2", "Parking P2", "main", "32")):
            page.click("#zone-add")
            row = page.locator("tr.zone-row").last
            row.locator("[name=id]").fill(zid)
            row.locator("[name=name]").fill(name)
            row.locator("[name=max_current]").fill(amps)
            if parent:
                row.locator("[name=parent]").focus()
                row.locator("[name=parent]").select_option(parent)
        page.click("#zones-save")
        page.wait_for_selector("#flash.ok")
        shoot(page, "laptop-wizard-zones")
        page.click("#skip")
        page.wait_for_url("**/ui/wizard?step=assignment")
        page.select_option("#assign-S1", "p1")
        page.select_option("#assign-S2", "p2")
        page.click("#save-next")
        page.wait_for_url("**/ui/wizard?step=remote_supervision")
        page.click("#save-next")
        page.wait_for_url("**/ui/wizard?step=load_shedding")
        page.select_option("#priority", "duration")
        page.click("#save-next")
        page.wait_for_url("**/ui/wizard?step=authentication")
        page.select_option("#auth-p2", "all_cards")
        page.click("#save-next")
        page.wait_for_url("**/ui/wizard?step=cards")
        page.fill("#card-tag", "WIZ001")
        page.click("#save-next")
        page.wait_for_url("**/ui/dashboard")
        page.wait_for_selector('#zone-tree [data-connector="S2-1"]')
        assert page.js_errors == []
    finally:
        page.context.close()

    site = api_get(factory_site, "/site", "installer", ADMIN_PW)
    assert site["settings"]["name"] == "Wizard park"
    assert site["settings"]["shedding_priority"] == "duration"
    assert {z["id"] for z in site["zones"]} == {"main", "p1", "p2"}
    assert {s["id"]: s["zone"] for s in site["stations"]} == {"S1": "p1", "S2": "p2"}
    assert next(z for z in site["zones"] if z["id"] == "p2")["auth_mode"] == "all_cards"
    cards = api_get(factory_site, "/cards", "installer", ADMIN_PW)
    assert [c["id_tag"] for c in cards] == ["WIZ001"]
    # The site runs: the registered stations come online and the controller allocates them.
    import time

    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        status = api_get(factory_site, "/status", "installer", ADMIN_PW)
        if {"S1", "S2"} <= set(status["stations_online"]):
            break
        time.sleep(0.5)
    assert {"S1", "S2"} <= set(status["stations_online"]), status
