"""Login lock-out, remote stop, cards round trip, transactions CSV, TOU summary,
language switch, and screenshots of every main page (laptop and phone)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import LAPTOP, PHONE, login, new_page, shoot
from .test_ui_dashboard import CAR


def test_login_lock_out_is_shown_next_to_the_password(page):
    page.goto("/login")
    for _ in range(6):
        page.fill("#username", "locky")
        page.fill("#password", "Wrong!pass1")
        with page.expect_response("**/api/v1/auth/login"):
            page.click("#login-submit")
        expect(page.locator("[data-error-for=password]")).not_to_be_empty()
    page.fill("#password", "Str0ng!pass")  # even the right password is refused now
    page.click("#login-submit")
    expect(page.locator("[data-error-for=password]")).to_contain_text("locked")
    assert page.url.endswith("/login")
    shoot(page, "laptop-login-locked")


def test_remote_stop_from_the_station_view(page, site):
    site.call(lambda: site.sim.stations["S1"].plug_in(2, CAR, "TAG1"))
    login(page, "bob")
    page.goto("/ui/station/S1")
    stop = page.locator('[data-connector="S1-2"] [data-action="remote_stop"]')
    stop.wait_for(timeout=15_000)
    stop.click()
    page.wait_for_selector("#flash.ok")
    assert "Accepted" in page.inner_text("#flash")
    page.wait_for_selector('[data-connector="S1-2"] .badge:not([data-status="Charging"])', timeout=15_000)
    assert site.call(lambda: site.sim.stations["S1"].status(2)) != "Charging"
    assert page.js_errors == []


def test_cards_import_export_round_trip(page, tmp_path):
    login(page, "bob")
    page.goto("/ui/cards")
    page.wait_for_selector('#cards-table [data-card="TAG1"]')
    with page.expect_download() as dl:
        page.click("#export-csv")
    exported = tmp_path / "cards.csv"
    dl.value.save_as(exported)
    original = exported.read_text(encoding="utf-8")
    assert original.splitlines()[0].startswith("id_tag,")
    # Replace the list with a new one, then restore the export: the same list again.
    other = tmp_path / "other.csv"
    other.write_text("id_tag,vip,authorized,comment,zones,valid_from,valid_to\nNEW1,false,true,x,,,\n",
                     encoding="utf-8")
    page.on("dialog", lambda d: d.accept())
    page.set_input_files("#import-file", str(other))
    page.click("#import-submit")
    page.wait_for_selector('#cards-table [data-card="NEW1"]')
    assert page.locator('#cards-table [data-card="TAG1"]').count() == 0
    page.set_input_files("#import-file", str(exported))
    page.click("#import-submit")
    page.wait_for_selector('#cards-table [data-card="TAG1"]')
    with page.expect_download() as dl2:
        page.click("#export-csv")
    again = tmp_path / "again.csv"
    dl2.value.save_as(again)
    assert again.read_text(encoding="utf-8") == original
    # A broken file is refused next to the file field, and changes nothing.
    bad = tmp_path / "bad.csv"
    bad.write_text("id_tag,vip\n,maybe\n", encoding="utf-8")
    page.set_input_files("#import-file", str(bad))
    page.click("#import-submit")
    expect(page.locator("[data-error-for=file]")).not_to_be_empty()
    assert page.locator('#cards-table [data-card="TAG1"]').count() == 1


def test_transactions_csv_download(page, site):
    site.call(lambda: site.sim.stations["S1"].plug_in(1, CAR, "TAG2"))
    login(page, "bob")
    page.goto("/ui/sessions")
    page.wait_for_selector("#sessions-table tbody tr", timeout=15_000)
    with page.expect_download() as dl:
        page.click("#csv")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    header = text.splitlines()[0]
    assert header.startswith("Transaction number,Station id,Connector")
    assert "Energy in TOU period peak (kWh)" in header
    assert len(text.splitlines()) >= 2


def test_tou_summary_in_amps(page):
    login(page, "alice")
    page.goto("/ui/admin/tou")
    cell = page.locator('#tou-table [data-zone="p1"] [data-period="peak"]')
    cell.wait_for()
    assert cell.inner_text().replace("\u202f", " ").strip() == "31 A"  # 63 A x 50 %, whole amps
    assert page.locator('#tou-table [data-zone="p2"] [data-period="peak"]').inner_text().strip() == "32 A"
    # Change the percentage: the summary follows after saving.
    page.locator("tr.period [name=percent]").fill("80")
    page.click("#tou-save")
    page.wait_for_selector("#flash.ok")
    expect(cell).to_have_text("50 A")
    page.locator("tr.period [name=percent]").fill("50")
    page.click("#tou-save")
    expect(cell).to_have_text("31 A")


def test_language_switch(page):
    login(page, "bob")
    assert page.inner_text("h1") == "Dashboard"
    page.select_option("#lang-select", "fr")
    page.wait_for_selector("html[lang=fr]")
    assert page.inner_text("h1") == "Tableau de bord"
    page.wait_for_selector("#fleet .count")
    assert "Disponible" in page.inner_text("#fleet")  # script strings too
    page.goto("/ui/cards")
    assert page.inner_text("h1") == "Badges"
    page.select_option("#lang-select", "de")
    page.wait_for_selector("html[lang=de]")
    assert page.inner_text("h1") == "Ladekarten"
    page.select_option("#lang-select", "en")
    page.wait_for_selector("html[lang=en]")


MAIN_PAGES = ["dashboard", "zone/p1", "station/S1", "sessions", "events", "alarms", "cards", "wizard?step=zones",
              "admin/network", "admin/supervision", "admin/shedding", "admin/zones", "admin/meters", "admin/tou",
              "admin/inputs", "admin/advanced", "admin/users", "admin/installation", "admin/logs",
              "admin/maintenance", "admin/system", "password"]


@pytest.mark.parametrize(("device", "viewport"), [("laptop", LAPTOP), ("phone", PHONE)])
def test_screenshots_of_every_main_page(browser, site, device, viewport):
    page = new_page(browser, site.url, viewport)
    try:
        page.goto("/login")
        shoot(page, f"{device}-login")
        login(page, "alice")
        for name in MAIN_PAGES:
            page.goto("/ui/" + name)
            page.wait_for_load_state("networkidle") if "dashboard" not in name and "/" not in name[:5] else None
            page.wait_for_timeout(700)
            assert page.locator("#flash.error").count() == 0 or not page.locator("#flash.error").is_visible(), \
                f"{name}: {page.inner_text('#flash')}"
            shoot(page, f"{device}-{re.sub(r'[^a-z0-9]+', '-', name.lower())}")
        assert page.js_errors == []
    finally:
        page.context.close()
