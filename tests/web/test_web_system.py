"""Admin functions: security settings (live), network (rendered file), CPO link,
meters one by one, reboot and back to factory (configured commands), station
report zip."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

from edgectl.adapters.store import Alarm, EventQuery, EventType, Role
from edgectl.settings import SystemConfig

from .support import PASSWORD, POLICY, Env, basic, login

ADMIN = basic("alice")


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


async def _security_events(env: Env) -> list[str]:
    return [e.message for e in await env.store.events.query(EventQuery(types=(EventType.SECURITY,)))]


# --- security settings --------------------------------------------------------------------------


async def test_security_settings_apply_at_once_and_persist(env: Env) -> None:
    body = await (await env.client.get("/api/v1/settings/security", headers=basic("bob"))).json()
    assert body["max_failures"] == POLICY.max_failures and body["tls10"] is False
    assert body["tls10_applies"] == "restart"  # no HTTPS listener in this app
    resp = await env.client.put("/api/v1/settings/security", headers=basic("bob"), json={"max_failures": 2})
    assert resp.status == 403
    resp = await env.client.put("/api/v1/settings/security", headers=ADMIN,
                                json={"max_failures": 2, "lockout_s": 30, "inactivity_s": 120, "tls10": True})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert (body["max_failures"], body["lockout_s"], body["inactivity_s"], body["tls10"]) == (2, 30, 120, True)
    assert any("applies on restart" in n for n in body["notes"])
    # Lock-out after 2 failures now, for 30 s.
    for status in (401, 423):
        resp = await env.client.post("/api/v1/auth/login", json={"username": "bob", "password": "Wrong!pass1"})
        assert resp.status == status
    env.clock.advance(31)
    await login(env.client, "bob")
    # Inactivity: 120 s.
    env.clock.advance(119)
    assert (await env.client.get("/api/v1/auth/me")).status == 200
    env.clock.advance(121)
    assert (await env.client.get("/api/v1/auth/me")).status == 401
    assert await env.store.box_settings.get("security") == {"max_failures": 2, "lockout_s": 30,
                                                            "inactivity_s": 120, "tls10": True}
    settings = await (await env.client.get("/api/v1/settings", headers=ADMIN)).json()
    assert settings["security"]["max_failures"] == 2
    assert "security settings changed" in await _security_events(env)
    resp = await env.client.put("/api/v1/settings/security", headers=ADMIN, json={"inactivity_s": 5})
    assert resp.status == 400 and "inactivity_s" in (await resp.json())["detail"]


async def test_tls10_restarts_the_https_listener_when_there_is_one(env: Env) -> None:
    calls: list[bool] = []

    async def restart(tls10: bool) -> bool:
        calls.append(tls10)
        return True

    env.deps.restart_https = restart
    body = await (await env.client.put("/api/v1/settings/security", headers=ADMIN, json={"tls10": True})).json()
    assert calls == [True] and body["tls10_applies"] == "live"
    assert any("HTTPS listener was restarted" in n for n in body["notes"])
    await env.client.put("/api/v1/settings/security", headers=ADMIN, json={"max_failures": 3})
    assert calls == [True]  # unchanged TLS: no restart


# --- network ------------------------------------------------------------------------------------


async def test_network_is_validated_and_rendered(env: Env, tmp_path: Path) -> None:
    env.deps.network_dir = tmp_path / "network"
    body = await (await env.client.get("/api/v1/system/network", headers=ADMIN)).json()
    assert body["dhcp"] is True and body["applies"] == "reboot" and body["file"] is None
    bad = {"dhcp": False, "address": "192.168.1.300", "netmask": "255.255.0.255", "gateway": "10.0.0.1",
           "dns": ["nope"], "proxy": "ftp://x"}
    resp = await env.client.put("/api/v1/system/network", headers=ADMIN, json=bad)
    assert resp.status == 422
    errors = (await resp.json())["errors"]
    assert {e.split(":")[0] for e in errors} >= {"address", "netmask", "dns", "proxy"}
    resp = await env.client.put("/api/v1/system/network", headers=ADMIN, json={
        "dhcp": False, "address": "192.168.1.10", "netmask": "255.255.255.0", "gateway": "192.168.2.1"})
    assert resp.status == 422 and "outside the subnet" in (await resp.json())["detail"]
    good = {"hostname": "box-1", "dhcp": False, "address": "192.168.1.10", "netmask": "24",
            "gateway": "192.168.1.1", "dns": ["192.168.1.1", "9.9.9.9"], "dhcp_server": True,
            "dhcp_range_start": "192.168.1.100", "dhcp_range_end": "192.168.1.149"}
    resp = await env.client.put("/api/v1/system/network", headers=ADMIN, json=good)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["netmask"] == "255.255.255.0" and body["file"] is not None
    text = _read(body["file"])
    for line in ("Name=eth0", "Address=192.168.1.10/24", "Gateway=192.168.1.1", "DNS=9.9.9.9", "DHCPServer=yes",
                 "PoolOffset=100", "PoolSize=50"):
        assert line in text.splitlines(), line
    assert Path(body["file"]).parent == tmp_path / "network"
    resp = await env.client.put("/api/v1/system/network", headers=ADMIN, json={"dhcp": True})
    assert resp.status == 422  # a DHCP client cannot serve DHCP
    resp = await env.client.put("/api/v1/system/network", headers=ADMIN, json={"dhcp": True, "dhcp_server": False})
    assert resp.status == 200
    assert "DHCP=ipv4" in _read((await resp.json())["file"])
    assert (await env.client.get("/api/v1/system/network", headers=basic("bob"))).status == 403
    assert "network settings changed" in await _security_events(env)


# --- remote supervision -------------------------------------------------------------------------


async def test_cpo_link_is_stored_and_validated_password_never_returned(env: Env) -> None:
    body = await (await env.client.get("/api/v1/system/supervision", headers=ADMIN)).json()
    assert body["enabled"] is False and "not built" in body["relay"]
    resp = await env.client.put("/api/v1/system/supervision", headers=ADMIN,
                                json={"enabled": True, "url": "http://cpo", "security_profile": 2})
    assert resp.status == 422
    fields = {e.split(":")[0] for e in (await resp.json())["errors"]}
    assert fields == {"url", "identity", "password"}
    key = "0123456789abcdef"
    resp = await env.client.put("/api/v1/system/supervision", headers=ADMIN, json={
        "enabled": True, "url": "wss://cpo.example.com/ocpp", "identity": "SITE-1", "security_profile": 2,
        "password": key})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["has_password"] is True and "password" not in body
    assert key not in await resp.text()
    # The password is kept when not sent, and removed with "".
    resp = await env.client.put("/api/v1/system/supervision", headers=ADMIN, json={"identity": "SITE-2"})
    assert (await resp.json())["has_password"] is True
    resp = await env.client.put("/api/v1/system/supervision", headers=ADMIN, json={"password": ""})
    assert resp.status == 422  # profile 2 needs one while enabled
    resp = await env.client.put("/api/v1/system/supervision", headers=ADMIN,
                                json={"enabled": False, "password": ""})
    assert resp.status == 200 and (await resp.json())["has_password"] is False
    events = await env.store.events.query(EventQuery(types=(EventType.SECURITY,)))
    assert all(key not in str(e.details) for e in events)


# --- meters ---------------------------------------------------------------------------------------


async def test_meter_add_edit_remove_say_restart(env: Env) -> None:
    meter = {"id": "pm1", "model": "pm5320", "transport": "tcp", "host": "10.0.0.5", "port": 502, "unit_id": 1}
    resp = await env.client.post("/api/v1/meters", headers=ADMIN, json=meter)
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["restart_required"] is True and "restart" in body["detail"] and body["meter"]["host"] == "10.0.0.5"
    assert (await env.client.post("/api/v1/meters", headers=ADMIN, json=meter)).status == 409
    resp = await env.client.post("/api/v1/meters", headers=ADMIN, json={"id": "pm2", "model": "no-such-model"})
    assert resp.status == 422
    resp = await env.client.put("/api/v1/meters/pm1", headers=ADMIN, json={**meter, "host": "10.0.0.6"})
    assert resp.status == 200 and (await resp.json())["meter"]["host"] == "10.0.0.6"
    resp = await env.client.put("/api/v1/meters/pm1", headers=ADMIN, json={**meter, "id": "other"})
    assert resp.status == 422
    assert (await env.client.put("/api/v1/meters/zz", headers=ADMIN, json={**meter, "id": "zz"})).status == 404
    site = await env.store.site.load()
    assert site is not None and [m.host for m in site.meters] == ["10.0.0.6"]
    # In use by a zone: refused.
    zones = await (await env.client.get("/api/v1/zones", headers=ADMIN)).json()
    zones[0]["meter"] = "pm1"
    zones[0]["mode"] = "dynamic"
    assert (await env.client.put("/api/v1/zones", headers=ADMIN, json=zones)).status == 200
    resp = await env.client.delete("/api/v1/meters/pm1", headers=ADMIN)
    assert resp.status == 422 and "main" in (await resp.json())["detail"]
    del zones[0]["meter"]
    zones[0]["mode"] = "static"
    assert (await env.client.put("/api/v1/zones", headers=ADMIN, json=zones)).status == 200
    resp = await env.client.delete("/api/v1/meters/pm1", headers=ADMIN)
    assert resp.status == 200 and (await resp.json())["restart_required"] is True
    assert (await env.client.delete("/api/v1/meters/pm1", headers=ADMIN)).status == 404
    assert env.site_changes[-1].meters == ()
    assert (await env.client.post("/api/v1/meters", headers=basic("carol"), json=meter)).status == 403


# --- reboot, back to factory ---------------------------------------------------------------------


def _touch(path: Path) -> tuple[str, ...]:
    return (sys.executable, "-c", f"open({str(path)!r}, 'w').write('ran')")


async def test_reboot_runs_the_configured_command(env: Env, tmp_path: Path) -> None:
    resp = await env.client.post("/api/v1/system/reboot", headers=ADMIN)
    assert resp.status == 409 and "reboot_command" in (await resp.json())["detail"]
    marker = tmp_path / "rebooted"
    env.deps.system = SystemConfig(reboot_command=_touch(marker))
    assert (await env.client.post("/api/v1/system/reboot", headers=basic("bob"))).status == 403
    resp = await env.client.post("/api/v1/system/reboot", headers=ADMIN)
    assert resp.status == 202, await resp.text()
    assert marker.read_text() == "ran" and (await resp.json())["exit_code"] == 0
    assert "reboot requested" in await _security_events(env)
    env.deps.system = SystemConfig(reboot_command=(sys.executable, "-c", "raise SystemExit(3)"))
    resp = await env.client.post("/api/v1/system/reboot", headers=ADMIN)
    assert resp.status == 500 and "exit code 3" in (await resp.json())["detail"]


async def test_back_to_factory_wipes_and_returns_to_the_wizard(env: Env, tmp_path: Path) -> None:
    marker = tmp_path / "reset"
    env.deps.system = SystemConfig(factory_reset_command=_touch(marker))
    env.deps.network_dir = tmp_path / "net"
    await env.store.alarms.raise_alarm(Alarm("station_offline", "S1", message="offline"))
    await env.client.put("/api/v1/system/network", headers=ADMIN, json={"hostname": "box"})
    await env.client.put("/api/v1/settings/security", headers=ADMIN, json={"max_failures": 2})
    assert list((tmp_path / "net").iterdir())
    csrf = await login(env.client, "alice")
    resp = await env.client.post("/api/v1/system/factory-reset", headers=csrf, json={"confirm": "yes"})
    assert resp.status == 422 and "FACTORY RESET" in (await resp.json())["detail"]
    assert (await env.store.site.load()) is not None
    resp = await env.client.post("/api/v1/system/factory-reset", headers=csrf, json={"confirm": "FACTORY RESET"})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["factory_accounts"] == 1 and "wizard" in body["detail"] and marker.exists()
    assert {"cards", "zones", "stations", "alarms", "box_settings", "web_sessions"} <= set(body["wiped_tables"])
    # Logged out; only the factory account is left; the site is empty; the events remain.
    assert (await env.client.get("/api/v1/auth/me")).status == 401
    assert [(u.username, u.role) for u in await env.store.users.list()] == [("factory", Role.FACTORY)]
    assert (await env.store.site.load()) is None and env.site_changes[-1].zones == ()
    assert await env.store.alarms.active() == []
    assert await env.store.box_settings.get("security") is None
    assert not list((tmp_path / "net").iterdir())
    messages = await _security_events(env)
    assert "back to factory requested" in messages and "back to factory done" in messages
    csrf = await login(env.client, "factory")
    wizard = await (await env.client.get("/api/v1/wizard")).json()
    assert wizard["credentials_done"] is False
    resp = await env.client.post("/api/v1/wizard/credentials", headers=csrf, json={
        "admin": {"username": "root2", "password": PASSWORD}, "user": {"username": "op2", "password": PASSWORD}})
    assert resp.status == 201
    # The default policy is back.
    assert (await (await env.client.get("/api/v1/settings/security", headers=basic("root2"))).json())[
        "max_failures"] == POLICY.max_failures


# --- station report --------------------------------------------------------------------------------


async def test_station_report_zip(env: Env, tmp_path: Path) -> None:
    env.deps.diagnostics_dir = tmp_path / "diag"
    (tmp_path / "diag" / "S1").mkdir(parents=True)
    (tmp_path / "diag" / "S1" / "diag-1.log").write_text("station log line\n")
    await env.store.alarms.raise_alarm(Alarm("connector_faulted", "S1", 1, code="GroundFailure", message="faulted"))
    resp = await env.client.get("/api/v1/stations/S1/report.zip", headers=basic("bob"))
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "application/zip" and "station-S1-" in resp.headers["Content-Disposition"]
    z = zipfile.ZipFile(io.BytesIO(await resp.read()))
    names = set(z.namelist())
    assert names == {"report.json", "report.html", "station-events.csv", "events.csv", "alarms.csv",
                     "diagnostics/diag-1.log"}
    assert "GroundFailure" in z.read("alarms.csv").decode()
    assert b"Station S1" in z.read("report.html")
    assert z.read("diagnostics/diag-1.log") == b"station log line\n"
    assert env.commands.calls[-1][:2] == ("S1", "get_configuration")  # S1 is connected (FakeLive)
    assert (await env.client.get("/api/v1/stations/S2/report.zip", headers=basic("carol"))).status == 404
    assert (await env.client.get("/api/v1/stations/S9/report.zip", headers=ADMIN)).status == 404


def test_system_section_of_the_daemon_configuration(tmp_path: Path) -> None:
    from edgectl.settings import ConfigError, load_config

    path = tmp_path / "edgectl.toml"
    path.write_text('data_dir = "data"\n[system]\nreboot_command = ["systemctl", "reboot"]\nnetwork_dir = "net"\n',
                    encoding="utf-8")
    config = load_config(path)
    assert config.system.reboot_command == ("systemctl", "reboot")
    assert config.network_dir == tmp_path / "data" / "net"
    assert load_config(None).network_dir == load_config(None).data_dir / "network"
    path.write_text("[system]\nreboot_command = [1, 2]\n", encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as exc:
        assert "reboot_command must be a list of str" in str(exc)
    else:
        raise AssertionError("a list of numbers was accepted as a command")
