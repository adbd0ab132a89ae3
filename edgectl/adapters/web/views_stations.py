"""Stations: registered and detected, register / edit / remove, connectors,
remote commands, station events.

Registering, editing and removing rewrite the site through `SiteState.edit`
(site-file validation, controller notified). A station's OCPP password is
write-only: never returned, and kept when an edit does not send one.
Remote commands go to the injected `StationCommands` with the caller's login
as actor (the command service records them in the event log).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edgectl.adapters.store import StationEventQuery
from edgectl.adapters.web.problems import Problem
from edgectl.adapters.web.routing import ADMINS, STAFF, Api, Ctx, Param, json_response
from edgectl.adapters.web.schemas import BOOL, INT, STR, arr, ref
from edgectl.adapters.web.sitestate import public, site_doc
from edgectl.core.result import ConnectorResult
from edgectl.core.site import Station
from edgectl.ports import CommandError

api = Api()


def _station_or_404(ctx: Ctx) -> Station:
    sid = ctx.match("station_id")
    site = ctx.site_state.site
    for s in site.stations:
        if s.id == sid and ctx.scope.zone(s.zone):
            return s
    raise Problem(404, f"no station {sid!r}")


def connectors_live(ctx: Ctx, station: Station) -> tuple[bool, list[dict[str, Any]]]:
    live = ctx.deps.live
    if live is None:
        return False, [{"id": c.id, "status": "Unknown"} for c in station.connectors]
    obs = live.snapshot().stations.get(station.id)
    allocation = live.allocation()
    results: dict[int, ConnectorResult] = {
        r.connector: r for r in (allocation.connectors if allocation else ()) if r.station == station.id
    }
    online = station.id in live.connected_stations()
    out = []
    for c in station.connectors:
        o = obs.connectors.get(c.id) if obs is not None else None
        r = results.get(c.id)
        out.append({
            "id": c.id,
            "status": o.status if o is not None else "Unavailable",
            "state": r.state.value if r is not None else None,
            "setpoint": r.setpoint_a if r is not None else None,
            "limited_by": list(r.limited_by) if r is not None else [],
            "current": list(o.current_a) if o is not None and o.current_a is not None else None,
            "transaction_id": o.transaction_id if o is not None else None,
            "id_tag": o.id_tag if o is not None else None,
            "energy_wh": o.energy_wh if o is not None else None,
        })
    return online, out


def _view(ctx: Ctx, station: Station) -> dict[str, Any]:
    doc = next(s for s in site_doc(ctx.site_state.site).get("stations", []) if s["id"] == station.id)
    online, connectors = connectors_live(ctx, station)
    return {"station": public(doc), "online": online, "connectors": connectors}


@api.route("GET", "/stations", STAFF, "List registered stations with live state", "stations",
           response=arr(ref("StationView")), query=(Param("zone", STR, "only stations of this zone"),))
async def list_stations(ctx: Ctx) -> web.StreamResponse:
    zone = ctx.q_str("zone")
    return json_response([
        _view(ctx, s) for s in ctx.site_state.site.stations
        if ctx.scope.zone(s.zone) and (zone is None or s.zone == zone)
    ])


@api.route("GET", "/stations/detected", ADMINS, "List stations that connected (registered or not)", "stations",
           response=arr(ref("DetectedStation")),
           query=(Param("unregistered", BOOL, "only those not registered yet"),))
async def detected(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    registered = {s.id for s in ctx.site_state.site.stations}
    only_new = ctx.q_bool("unregistered")
    out = []
    for d in await ctx.deps.store.stations_registry.list():
        if only_new and d.identity in registered:
            continue
        out.append({
            "identity": d.identity, "first_seen": d.first_seen.isoformat(), "last_seen": d.last_seen.isoformat(),
            "remote_address": d.remote_address, "vendor": d.vendor, "model": d.model, "serial": d.serial,
            "firmware": d.firmware, "registered": d.identity in registered,
        })
    return json_response(out)


@api.route("POST", "/stations", ADMINS, "Register a station", "stations", body=ref("Station"),
           response=ref("StationView"), status=201,
           description="Same keys as a [[stations]] entry of the site file; a detected identity becomes registered.")
async def register_station(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    sid = ctx.body["id"]
    if any(s.id == sid for s in ctx.site_state.site.stations):
        raise Problem(409, f"station {sid!r} is already registered")
    new = await ctx.site_state.edit(lambda doc: doc.setdefault("stations", []).append(ctx.body))
    await ctx.auth.security("station registered", ctx.actor, station=sid)
    station = next(s for s in new.stations if s.id == sid)
    return json_response(_view(ctx, station), 201)


@api.route("GET", "/stations/{station_id}", STAFF, "Show a station with live state", "stations",
           response=ref("StationView"))
async def get_station(ctx: Ctx) -> web.StreamResponse:
    return json_response(_view(ctx, _station_or_404(ctx)))


@api.route("PUT", "/stations/{station_id}", ADMINS, "Edit a station", "stations", body=ref("Station"),
           response=ref("StationView"), description="The whole entry; the id cannot change. An omitted "
           "`password` keeps the current one.")
async def edit_station(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    station = _station_or_404(ctx)
    if ctx.body.get("id", station.id) != station.id:
        raise Problem(422, "id: a station's identity cannot change (remove it and register it again)")

    def change(doc: dict[str, Any]) -> None:
        entries = doc.get("stations", [])
        for i, s in enumerate(entries):
            if s["id"] == station.id:
                entry = {**ctx.body, "id": station.id}
                if "password" not in entry and "password" in s:
                    entry["password"] = s["password"]
                entries[i] = entry

    new = await ctx.site_state.edit(change)
    return json_response(_view(ctx, next(s for s in new.stations if s.id == station.id)))


@api.route("DELETE", "/stations/{station_id}", ADMINS, "Remove a station from the site", "stations", status=204)
async def remove_station(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    station = _station_or_404(ctx)

    def change(doc: dict[str, Any]) -> None:
        doc["stations"] = [s for s in doc.get("stations", []) if s["id"] != station.id]

    await ctx.site_state.edit(change)
    await ctx.auth.security("station removed", ctx.actor, station=station.id)
    return web.Response(status=204)


@api.route("GET", "/stations/{station_id}/connectors", STAFF, "List a station's connectors (live)", "stations",
           response=arr(ref("ConnectorLive")))
async def connectors(ctx: Ctx) -> web.StreamResponse:
    return json_response(connectors_live(ctx, _station_or_404(ctx))[1])


@api.route("POST", "/stations/{station_id}/commands", STAFF, "Send a remote command to a station", "commands",
           body=ref("CommandIn"), response=ref("CommandResult"),
           description="`command`: remote_start, remote_stop, force_stop, soft_reset, hard_reset, unlock, "
           "set_available, set_unavailable, clear_cache, get_configuration, change_configuration, "
           "trigger_message, reserve_now, cancel_reservation, update_firmware, get_diagnostics, "
           "maintenance_report. The station's answer is in `status` (Accepted, Rejected, Timeout, NotConnected ...).")
async def command(ctx: Ctx) -> web.StreamResponse:
    station = _station_or_404(ctx)
    if ctx.deps.commands is None:
        raise Problem(503, "remote commands are not available (controller not running)")
    try:
        result = await ctx.deps.commands.execute(station.id, ctx.body["command"], ctx.body.get("params", {}),
                                                 ctx.actor)
    except CommandError as exc:
        raise Problem(422, str(exc)) from None
    return json_response({"station_id": result.station_id, "command": result.command, "status": result.status,
                          "payload": result.payload, "error": result.error})


@api.route("GET", "/stations/{station_id}/events", STAFF, "Browse a station's status notifications", "stations",
           response=arr(ref("StationEvent")),
           query=(Param("connector", INT), Param("status", STR), Param("errors_only", BOOL),
                  Param("before_id", INT, "paging: the smallest id of the previous page"),
                  Param("limit", {"type": "integer", "minimum": 1, "maximum": 1000})))
async def station_events(ctx: Ctx) -> web.StreamResponse:
    station = _station_or_404(ctx)
    q = StationEventQuery(
        station_id=station.id, connector_id=ctx.q_int("connector"), status=ctx.q_str("status"),
        errors_only=bool(ctx.q_bool("errors_only")), before_id=ctx.q_int("before_id"),
        limit=ctx.q_int("limit", 100, 1, 1000) or 100,
    )
    return json_response([station_event_json(e) for e in await ctx.deps.store.station_events.query(q)])


def station_event_json(e: Any) -> dict[str, Any]:
    return {
        "id": e.id, "station_id": e.station_id, "connector_id": e.connector_id, "status": e.status,
        "error_code": e.error_code, "info": e.info, "vendor_id": e.vendor_id,
        "vendor_error_code": e.vendor_error_code,
        "station_at": e.station_at.isoformat() if e.station_at else None,
        "received_at": e.received_at.isoformat() if e.received_at else None,
    }
