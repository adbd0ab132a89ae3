"""Admin functions of the box: security policy, network, CPO link, power
meters one by one, reboot, back to factory, and a station's report as a zip.

All writes are Admin-only and whole-site, and each is a security event.
- Security settings apply at once (TLS 1.0: the HTTPS listener is restarted
  live when there is one; the OCPP TLS listener takes it at the next start).
- Network settings are stored and rendered as a systemd-networkd file that
  the box applies on reboot (see `boxsettings`); nothing touches the running
  network.
- The CPO link is stored and validated; the relay itself is not built.
- A meter change rewrites the site (site-file validation); the meter pollers
  are built at start, so the change takes effect after a restart of the
  daemon — every answer says so (`restart_required`).
- Reboot and back to factory run the commands of `[system]` in the daemon
  configuration; back to factory also needs the typed confirmation
  `FACTORY RESET` and wipes the store (`Store.factory`), keeping the event
  log and the factory accounts: the box returns to the wizard.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from dataclasses import replace
from datetime import datetime
from typing import Any

import structlog
from aiohttp import web

from edgectl.adapters.store import AlarmQuery, EventQuery, StationEventQuery
from edgectl.adapters.web import boxsettings as box
from edgectl.adapters.web.auth import CSRF_COOKIE, SESSION_COOKIE
from edgectl.adapters.web.problems import Problem
from edgectl.adapters.web.routing import ADMINS, STAFF, Api, Ctx, json_response
from edgectl.adapters.web.schemas import ref
from edgectl.adapters.web.sitestate import public, site_doc
from edgectl.adapters.web.views_models import known_model
from edgectl.adapters.web.views_stations import station_event_json
from edgectl.services import report
from edgectl.services.alarms import alarm_dict

log = structlog.get_logger(__name__)
api = Api()
CONFIRM = "FACTORY RESET"
RESTART_NOTE = ("the meter pollers are built when the daemon starts: restart it (Admin > System > Reboot, or "
                "`systemctl restart edgectl`) for this change to take effect")
REPORT_CAP = 20 * 1024 * 1024  # SPEC §6: station reports are capped at 20 MB
REPORT_ROWS = 5000


# --- security -------------------------------------------------------------------------------


def security_json(ctx: Ctx, notes: list[str] | None = None) -> dict[str, Any]:
    p, c = ctx.auth.policy, ctx.deps.config
    return {"max_failures": p.max_failures, "lockout_s": p.lockout_s, "inactivity_s": p.inactivity_s,
            "token_ttl_s": p.token_ttl_s, "tls10": ctx.request.app[box.BOX].tls10, "http_port": c.http_port,
            "https_port": c.https_port, "tls10_applies": "live" if ctx.deps.restart_https else "restart",
            "notes": notes or []}


@api.route("GET", "/settings/security", STAFF, "Show the security policy", "settings",
           response=ref("SecuritySettings"))
async def get_security(ctx: Ctx) -> web.StreamResponse:
    return json_response(security_json(ctx))


@api.route("PUT", "/settings/security", ADMINS, "Change the security policy", "settings",
           body=ref("SecuritySettingsIn"), response=ref("SecuritySettings"),
           description="Failed logins before lock-out, lock-out period (s), inactivity timeout (s): at once. "
           "TLS 1.0 on the HTTPS listener: restarted live when the daemon serves HTTPS; the OCPP TLS listener "
           "(security profile 2) takes it at the next start. Omitted keys keep their value.")
async def put_security(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    store, state = ctx.deps.store, ctx.request.app[box.BOX]
    stored = await store.box_settings.get(box.SECURITY) or {}
    old = {**{k: getattr(ctx.auth.policy, k) for k in box.SECURITY_KEYS}, "tls10": state.tls10}
    new = {**old, **stored, **ctx.body}
    await store.box_settings.put(box.SECURITY, new)
    ctx.auth.policy = replace(ctx.auth.policy, **{k: new[k] for k in box.SECURITY_KEYS})
    notes: list[str] = []
    if bool(new["tls10"]) != state.tls10:
        state.tls10 = bool(new["tls10"])
        restarted = ctx.deps.restart_https is not None and await ctx.deps.restart_https(state.tls10)
        notes.append("TLS 1.0 " + ("on" if state.tls10 else "off") + ": "
                     + ("the HTTPS listener was restarted with it" if restarted else "applies on restart")
                     + "; the OCPP TLS listener applies it on restart")
    changed = {k: {"old": old[k], "new": new[k]} for k in old if old[k] != new[k]}
    await ctx.auth.security("security settings changed", ctx.actor, changed=changed)
    return json_response(security_json(ctx, notes))


# --- network ------------------------------------------------------------------------------


def network_json(ctx: Ctx, net: dict[str, Any]) -> dict[str, Any]:
    interface = ctx.deps.system.network_interface
    directory = ctx.deps.network_dir
    path = None if directory is None else box.network_file(directory, interface)
    return {**net, "interface": interface, "file": str(path) if path is not None and path.exists() else None,
            "rendered": box.render_networkd(net, interface), "applies": "reboot"}


@api.route("GET", "/system/network", ADMINS, "Show the box's network settings", "system", response=ref("Network"))
async def get_network(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    stored = await ctx.deps.store.box_settings.get(box.NETWORK)
    return json_response(network_json(ctx, {**box.NETWORK_DEFAULTS, **(stored or {})}))


@api.route("PUT", "/system/network", ADMINS, "Change the box's network settings (applied on reboot)", "system",
           body=ref("NetworkIn"), response=ref("Network"),
           description="Validated, stored and written as a systemd-networkd .network file into the configured "
           "directory ([system] network_dir); the box applies it on its next reboot. The running network is not "
           "touched. Omitted keys keep their value.")
async def put_network(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    stored = await ctx.deps.store.box_settings.get(box.NETWORK) or {}
    net = box.validate_network({**stored, **ctx.body})
    await ctx.deps.store.box_settings.put(box.NETWORK, net)
    if ctx.deps.network_dir is not None:
        interface = ctx.deps.system.network_interface
        try:
            path = await asyncio.to_thread(box.write_network, ctx.deps.network_dir, interface,
                                           box.render_networkd(net, interface))
        except OSError as exc:
            raise Problem(500, f"the settings were stored but the network file could not be written: {exc}") from None
        log.info("web.network_written", path=str(path))
    await ctx.auth.security("network settings changed", ctx.actor, dhcp=net["dhcp"], address=net["address"])
    return json_response(network_json(ctx, net))


# --- remote supervision (the link to a CPO) ----------------------------------------------------


@api.route("GET", "/system/supervision", ADMINS, "Show the CPO link settings", "system", response=ref("Supervision"))
async def get_supervision(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    return json_response(box.supervision_json(await ctx.deps.store.box_settings.get(box.SUPERVISION) or {}))


@api.route("PUT", "/system/supervision", ADMINS, "Change the CPO link settings", "system",
           body=ref("SupervisionIn"), response=ref("Supervision"),
           description="Stored and validated (ws:// or wss:// URL, charge-box identity, OCPP security profile "
           "0-2, 16-40 character password, never returned; omit it to keep the stored one, send \"\" to remove it). "
           "The relay to the CPO is not built in this version: nothing connects upstream.")
async def put_supervision(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    current = await ctx.deps.store.box_settings.get(box.SUPERVISION) or {}
    new = box.validate_supervision(current, ctx.body)
    await ctx.deps.store.box_settings.put(box.SUPERVISION, new)
    await ctx.auth.security("CPO link settings changed", ctx.actor, enabled=new["enabled"], url=new["url"],
                            identity=new["identity"], security_profile=new["security_profile"],
                            password_changed=ctx.body.get("password") is not None)
    return json_response(box.supervision_json(new))


# --- power meters, one by one ---------------------------------------------------------------------


def _meter_change(meter: dict[str, Any]) -> dict[str, Any]:
    return {"meter": public(meter), "restart_required": True, "detail": RESTART_NOTE}


def _meters(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc.get("meters", []))


async def _check_model(ctx: Ctx, meter: dict[str, Any]) -> None:
    model = meter.get("model")
    if isinstance(model, str) and model.startswith("custom:") and not await known_model(ctx, model):
        raise Problem(422, f"model: no custom meter model {model!r}; import it first (PUT /meter-models/{model})")


@api.route("POST", "/meters", ADMINS, "Add a power meter", "meters", body=ref("Meter"), response=ref("MeterChange"),
           status=201, description="Validated like a site file's [[meters]] entry. " + RESTART_NOTE + ".")
async def add_meter(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    meter = dict(ctx.body)
    await _check_model(ctx, meter)

    def change(doc: dict[str, Any]) -> None:
        if any(m["id"] == meter["id"] for m in _meters(doc)):
            raise Problem(409, f"id: a meter {meter['id']!r} already exists")
        doc["meters"] = [*_meters(doc), meter]

    new = await ctx.site_state.edit(change)
    await ctx.auth.security("meter added", ctx.actor, meter=meter["id"])
    return json_response(_meter_change(next(m for m in _meters(site_doc(new)) if m["id"] == meter["id"])), 201)


@api.route("PUT", "/meters/{meter_id}", ADMINS, "Replace a power meter's settings", "meters", body=ref("Meter"),
           response=ref("MeterChange"), description="The id cannot change. " + RESTART_NOTE + ".")
async def put_meter(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    meter_id = ctx.match("meter_id")
    meter = dict(ctx.body)
    if meter["id"] != meter_id:
        raise Problem(422, f"id: the id cannot change ({meter_id!r} in the path, {meter['id']!r} in the body)")
    await _check_model(ctx, meter)

    def change(doc: dict[str, Any]) -> None:
        meters = _meters(doc)
        if all(m["id"] != meter_id for m in meters):
            raise Problem(404, f"no meter {meter_id!r}")
        doc["meters"] = [meter if m["id"] == meter_id else m for m in meters]

    new = await ctx.site_state.edit(change)
    await ctx.auth.security("meter changed", ctx.actor, meter=meter_id)
    return json_response(_meter_change(next(m for m in _meters(site_doc(new)) if m["id"] == meter_id)))


@api.route("DELETE", "/meters/{meter_id}", ADMINS, "Remove a power meter", "meters", response=ref("MeterChange"),
           description="Refused (422) while a zone uses it. " + RESTART_NOTE + ".")
async def delete_meter(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    meter_id = ctx.match("meter_id")
    found: list[dict[str, Any]] = []

    def change(doc: dict[str, Any]) -> None:
        meters = _meters(doc)
        found.extend(m for m in meters if m["id"] == meter_id)
        if not found:
            raise Problem(404, f"no meter {meter_id!r}")
        users = [z["id"] for z in doc.get("zones", []) if z.get("meter") == meter_id]
        if users:
            raise Problem(422, f"meter: zone(s) {', '.join(users)} use meter {meter_id!r}; change them first")
        doc["meters"] = [m for m in meters if m["id"] != meter_id]

    await ctx.site_state.edit(change)
    await ctx.auth.security("meter removed", ctx.actor, meter=meter_id)
    return json_response(_meter_change(found[0]))


# --- reboot, back to factory ----------------------------------------------------------------------


async def run_command(ctx: Ctx, action: str, command: tuple[str, ...]) -> dict[str, Any]:
    timeout = ctx.deps.system.command_timeout_s
    try:
        proc = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
    except OSError as exc:
        raise Problem(500, f"the {action} command {command[0]!r} could not be started: {exc}") from None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise Problem(500, f"the {action} command did not finish within {timeout:g} s") from None
    output = out.decode("utf-8", "replace")[-2000:]
    log.info("web.system_command", action=action, command=list(command), exit_code=proc.returncode)
    if proc.returncode != 0:
        raise Problem(500, f"the {action} command failed (exit code {proc.returncode}): {output.strip()[:300]}")
    return {"action": action, "command": list(command), "exit_code": proc.returncode, "output": output}


@api.route("POST", "/system/reboot", ADMINS, "Reboot the box", "system", response=ref("SystemAction"), status=202,
           description="Runs `[system] reboot_command` of the daemon configuration (e.g. systemctl reboot); "
           "409 when none is configured.")
async def reboot(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    command = ctx.deps.system.reboot_command
    if not command:
        raise Problem(409, "reboot is not configured on this box ([system] reboot_command in the daemon "
                      "configuration)")
    await ctx.auth.security("reboot requested", ctx.actor)
    result = await run_command(ctx, "reboot", command)
    return json_response({**result, "detail": "the box is rebooting"}, 202)


@api.route("POST", "/system/factory-reset", ADMINS, "Back to factory settings", "system",
           body=ref("FactoryResetIn"), response=ref("FactoryReset"),
           description=f"Send {{\"confirm\": \"{CONFIRM}\"}}. Deletes cards, stations, zones, meters, TOU, inputs, "
           "transactions, station events, alarms, the CPO link, the network and security settings, every "
           "session and token and every user but the factory accounts; keeps the event log. Then runs "
           "`[system] factory_reset_command` if configured. Everybody is logged out; the factory account "
           "runs the wizard again.")
async def factory_reset(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    if ctx.body["confirm"] != CONFIRM:
        raise Problem(422, f"confirm: type {CONFIRM} (in capitals) to confirm")
    deps, state = ctx.deps, ctx.request.app[box.BOX]
    await ctx.auth.security("back to factory requested", ctx.actor)
    result = await deps.store.factory.wipe()
    await ctx.auth.close_all()
    ctx.auth.policy = deps.policy
    if state.tls10 != deps.config.tls10:
        state.tls10 = deps.config.tls10
        if deps.restart_https is not None:
            await deps.restart_https(state.tls10)
    if deps.network_dir is not None:
        await asyncio.to_thread(box.remove_network, deps.network_dir, deps.system.network_interface)
    await ctx.site_state.reload()
    await ctx.auth.security("back to factory done", ctx.actor, tables=len(result.tables), rows=result.rows,
                            factory_accounts=result.factory_accounts)
    command = None
    if deps.system.factory_reset_command:
        command = await run_command(ctx, "factory reset", deps.system.factory_reset_command)
    detail = ("back to factory: log in with the factory account to run the wizard" if result.factory_accounts
              else "back to factory; no factory account exists: create one on the box with "
              "`edgectl user add --role factory`")
    resp = json_response({"wiped_tables": list(result.tables), "rows": result.rows,
                          "factory_accounts": result.factory_accounts, "command": command, "detail": detail})
    resp.del_cookie(SESSION_COOKIE, path="/")
    resp.del_cookie(CSRF_COOKIE, path="/")
    return resp


# --- a station's report (zip) ----------------------------------------------------------------------


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(header)
    out.writerows(rows)
    return buffer.getvalue()


@api.route("GET", "/stations/{station_id}/report.zip", STAFF, "Download a station's report (zip)", "stations",
           response_media="application/zip",
           description="The maintenance report (JSON and HTML: identity, state, configuration when connected, "
           "connectors, open alarms, recent sessions), the station's recent status notifications, its events "
           "from the event log, its alarm history and the diagnostics files it uploaded, newest first, within "
           "20 MB.")
async def station_report(ctx: Ctx) -> web.StreamResponse:
    sid = ctx.match("station_id")
    site = ctx.site_state.site
    station = next((s for s in site.stations if s.id == sid and ctx.scope.zone(s.zone)), None)
    if station is None:
        raise Problem(404, f"no station {sid!r}")
    store, live = ctx.deps.store, ctx.deps.live
    connected = live is not None and sid in live.connected_stations()
    configuration = None
    if connected and ctx.deps.commands is not None:
        configuration = await ctx.deps.commands.execute(sid, "get_configuration", {}, ctx.actor)
    now = ctx.deps.clock.now()
    data = await report.build(store, sid, station, connected, configuration, now)
    station_events = await store.station_events.query(StationEventQuery(station_id=sid, limit=REPORT_ROWS))
    events = await store.events.query(EventQuery(source=sid, limit=REPORT_ROWS))
    alarms = await store.alarms.query(AlarmQuery(source=sid, limit=REPORT_ROWS))

    def build_zip() -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("report.json", json.dumps(data, indent=2, default=str))
            z.writestr("report.html", report.render_html(data))
            se = [station_event_json(e) for e in station_events]
            z.writestr("station-events.csv", _csv(
                ["id", "received_at", "station_at", "connector_id", "status", "error_code", "info", "vendor_id",
                 "vendor_error_code"], [[e[k] for k in ("id", "received_at", "station_at", "connector_id", "status",
                                                        "error_code", "info", "vendor_id", "vendor_error_code")]
                                        for e in se]))
            z.writestr("events.csv", _csv(
                ["id", "at", "type", "zone", "message", "details"],
                [[e.id, e.at.isoformat() if e.at else "", e.type.value, e.zone or "", e.message,
                  json.dumps(dict(e.details), default=str)] for e in events]))
            al = [alarm_dict(a) for a in alarms]
            z.writestr("alarms.csv", _csv(
                ["id", "kind", "connector", "code", "message", "raised_at", "cleared_at", "cleared_by"],
                [[a[k] for k in ("id", "kind", "connector", "code", "message", "raised_at", "cleared_at",
                                 "cleared_by")] for a in al]))
            skipped = []
            folder = ctx.deps.diagnostics_dir / sid if ctx.deps.diagnostics_dir is not None else None
            if folder is not None and folder.is_dir():
                files = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.stat().st_mtime,
                               reverse=True)
                for path in files:
                    if buffer.tell() + path.stat().st_size > REPORT_CAP:
                        skipped.append(path.name)
                        continue
                    z.write(path, f"diagnostics/{path.name}")
            if skipped:
                z.writestr("diagnostics/SKIPPED.txt", "Left out to stay within 20 MB:\n" + "\n".join(skipped) + "\n")
        return buffer.getvalue()

    body = await asyncio.to_thread(build_zip)
    stamp = datetime.strftime(now, "%Y%m%d-%H%M%S")
    return web.Response(body=body, content_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="station-{sid}-{stamp}.zip"'})
