"""Dashboard widgets, station events browser, logs (filters, CSV), maintenance
report, the wizard from the menu, and custom meter models — in a real browser."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from .conftest import login, shoot
from .test_ui_dashboard import CAR


def test_dashboard_widgets(page, site):
    if site.call(lambda: site.sim.stations["S1"].status(1)) != "Charging":
        site.call(lambda: site.sim.stations["S1"].plug_in(1, CAR, "TAG1"))
    login(page, "bob")
    page.wait_for_selector("#live-dot.on")
    # Charges optimal / reduced / suspended add up to the charging and suspended outlets of the last cycle.
    expect(page.locator('#ongoing-table [data-session="S1-1"]')).to_have_count(1, timeout=15_000)
    status = page.evaluate('fetch("/api/v1/status").then((r) => r.json())')
    busy = sum(1 for c in status["connectors"] if c["state"] in ("charging", "suspended"))
    counts = [int(page.inner_text(f'#charges [data-charges="{k}"] strong'))
              for k in ("optimal", "reduced", "suspended")]
    assert sum(counts) >= 1 and abs(sum(counts) - busy) <= 1, (counts, busy)  # the feed may be one cycle ahead
    # Per zone and phase: setpoint sum and measured current against the limit.
    for zone in ("main", "p1", "p2"):
        expect(page.locator(f'#zone-bars .zone-bars[data-zone="{zone}"] .phase')).to_have_count(3)
    assert " A" in page.inner_text('#zone-bars .zone-bars[data-zone="p1"] .phase .val')
    # Last 24 h: the session counts, and the energy chart is drawn (24 hourly bars).
    assert int(page.inner_text("#cum-sessions")) >= 1
    expect(page.locator("#energy-chart svg rect.bar-energy")).to_have_count(24)
    assert page.js_errors == []


def test_station_events_browser_filters(page):
    login(page, "bob")
    page.goto("/ui/events")
    page.wait_for_selector("#all-events table tbody tr")
    page.fill('#se-filter [name="station"]', "S2")
    page.click('#se-filter button[type="submit"]')
    expect(page.locator('#all-events a[href="/ui/station/S1"]')).to_have_count(0)
    assert page.locator('#all-events a[href="/ui/station/S2"]').count() >= 1
    page.fill('#se-filter [name="station"]', "")
    page.fill('#se-filter [name="status"]', "Faulted-no-such")
    page.click('#se-filter button[type="submit"]')
    expect(page.locator("#all-events table")).to_have_count(0)
    assert page.js_errors == []


def test_logs_filters_refresh_and_csv(page, site):
    login(page, "alice")
    page.goto("/ui/admin/logs")
    page.wait_for_selector("#logs-table tbody tr")
    page.select_option('#log-filter [name="type"]', "security")
    page.click("#log-refresh")
    expect(page.locator("#log-csv")).to_have_attribute("href", "/api/v1/events/export?type=security")
    page.wait_for_selector("#logs-table tbody tr")
    chips = page.locator("#logs-table tbody .chip").all_inner_texts()
    assert chips and set(chips) == {"security"}
    with page.expect_download() as dl:
        page.click("#log-csv")
    lines = Path(dl.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,at,type,source,zone,message,details"
    assert len(lines) >= 2 and all(",security," in line for line in lines[1:] if line.count(",") >= 3)
    assert page.js_errors == []


def test_maintenance_report_and_wizard_from_the_menu(page):
    login(page, "alice")
    page.goto("/ui/admin/maintenance")
    body = page.locator("#admin-body")
    expect(body.locator("h3")).to_have_count(4)
    expect(body).to_contain_text("S1")
    expect(body).to_contain_text("pm-main")
    # The wizard, from the main menu: it opens at the first step an admin can run, with the current settings.
    page.click('#mainnav a[href="/ui/wizard"]')
    page.wait_for_url("**/ui/wizard")
    expect(page.locator('#steps li.current[data-step="network"]')).to_have_count(1)
    expect(page.locator("#site-name")).to_have_value("Test car park")
    assert page.js_errors == []


def test_custom_meter_model_import_export_remove(page, tmp_path):
    login(page, "alice")
    page.goto("/ui/admin/meters")
    page.wait_for_selector('#models-table [data-model="pm5320"]')
    expect(page.locator('#models-table [data-model="pm5320"]')).to_contain_text("pm-main")  # used by
    with page.expect_download() as dl:
        page.click('#models-table [data-export="pm5320"]')
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert 'id = "pm5320"' in text
    # A broken file: the problem is shown at the file field, nothing is added.
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('id = "pm5320"', 'id = "custom:lab"').replace("[quantities.i1]", "[quantities.i9]"),
                   encoding="utf-8")
    page.set_input_files("#model-file", str(bad))
    page.click("#model-import-submit")
    expect(page.locator('#model-import [data-error-for="file"]')).to_contain_text("quantities")
    expect(page.locator('#models-table [data-model="custom:lab"]')).to_have_count(0)
    good = tmp_path / "lab.toml"
    good.write_text(text.replace('id = "pm5320"', 'id = "custom:lab"'), encoding="utf-8")
    page.set_input_files("#model-file", str(good))
    page.click("#model-import-submit")
    expect(page.locator('#models-table [data-model="custom:lab"]')).to_contain_text("custom:lab")
    shoot(page, "laptop-admin-meters-models")
    page.on("dialog", lambda d: d.accept())
    page.click('#models-table [data-remove-model="custom:lab"]')
    expect(page.locator('#models-table [data-model="custom:lab"]')).to_have_count(0)
    assert page.js_errors == []
