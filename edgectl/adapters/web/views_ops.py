"""Sessions, the transactions CSV, meters, the event log, station events,
and the live status of zones and connectors.

Everything here is read-only and filtered by the caller's operator domain:
sessions and station events by station, events by zone or station source,
zones and connectors of the live status by zone.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp import web

from edgectl.adapters.store import EventQuery, EventType, Session, StationEventQuery
from edgectl.adapters.web import cdr
from edgectl.adapters.web.problems import Problem
from edgectl.adapters.web.routing import STAFF, Api, Ctx, Param, json_response
from edgectl.adapters.web.schemas import BOOL, INT, STR, TIME, arr, ref
from edgectl.adapters.web.sitestate import public, site_doc
from edgectl.adapters.web.views_stations import station_event_json

api = Api()
LIMIT = {"type": "integer", "minimum": 1, "maximum": 1000}
EVENT_TYPES = [t.value for t in EventType]


def session_json(s: Session) -> dict[str, Any]:
    return {
        "transaction_id": s.transaction_id, "station_id": s.station_id, "connector_id": s.connector_id,
        "id_tag": s.id_tag, "charge_type": s.charge_type.value, "start": s.start_at.isoformat(),
        "end": s.stop_at.isoformat() if s.stop_at else None, "energy_wh": s.energy_wh,
        "effective_charge_duration_s": s.effective_charge_duration_s, "stop_reason": s.stop_reason,
        "comment": s.comment, "open": s.is_open,
    }


def _station_ok(ctx: Ctx) -> Any:
    scope, site = ctx.scope, ctx.site_state.site
    return None if scope.whole_site else (lambda sid: scope.station(site, sid))


@api.route("GET", "/sessions", STAFF, "List charging sessions", "sessions", response=arr(ref("Session")),
           query=(Param("from", TIME, "started at or after"), Param("to", TIME, "started before"),
                  Param("station", STR), Param("open", BOOL, "only ongoing sessions"),
                  Param("offset", {"type": "integer", "minimum": 0}), Param("limit", LIMIT)))
async def list_sessions(ctx: Ctx) -> web.StreamResponse:
    ok = _station_ok(ctx)
    station, limit = ctx.q_str("station"), ctx.q_int("limit", 200, 1, 1000) or 200
    offset = ctx.q_int("offset", 0, 0) or 0
    if ctx.q_bool("open"):
        found = [s for s in await ctx.deps.store.sessions.open_sessions(station) if ok is None or ok(s.station_id)]
        return json_response([session_json(s) for s in found[offset:offset + limit]])
    out: list[dict[str, Any]] = []
    skipped = 0
    async for s in ctx.deps.store.sessions.iter_range(ctx.q_time("from"), ctx.q_time("to")):
        if (station is not None and s.station_id != station) or (ok is not None and not ok(s.station_id)):
            continue
        if skipped < offset:
            skipped += 1
            continue
        out.append(session_json(s))
        if len(out) >= limit:
            break
    return json_response(out)


@api.route("GET", "/sessions/export", STAFF, "Export transactions (CSV, streamed)", "sessions",
           response_media="text/csv",
           query=(Param("from", TIME, "started at or after"), Param("to", TIME, "started before")),
           description="SPEC §6 columns, one energy column per TOU period plus the energy outside any period; "
           "see docs/api.md for how energy is split.")
async def export_sessions(ctx: Ctx) -> web.StreamResponse:
    start, end = ctx.q_time("from"), ctx.q_time("to")
    resp = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="transactions.csv"',
    })
    await resp.prepare(ctx.request)

    async def write(text: str) -> None:
        await resp.write(text.encode("utf-8"))

    await cdr.write_csv(write, ctx.deps.store, ctx.site_state.site, start, end, ctx.deps.clock.now(),
                        _station_ok(ctx))
    await resp.write_eof()
    return resp


@api.route("GET", "/sessions/{transaction_id}", STAFF, "Show a session", "sessions", response=ref("Session"))
async def get_session(ctx: Ctx) -> web.StreamResponse:
    try:
        tid = int(ctx.match("transaction_id"))
    except ValueError:
        raise Problem(400, "transaction_id must be an integer") from None
    s = await ctx.deps.store.sessions.get(tid) if abs(tid) < 2**53 else None
    ok = _station_ok(ctx)
    if s is None or (ok is not None and not ok(s.station_id)):
        raise Problem(404, f"no session {tid}")
    return json_response(session_json(s))


@api.route("GET", "/meters", STAFF, "List meters with their connection health", "meters",
           response=arr(ref("MeterView")))
async def list_meters(ctx: Ctx) -> web.StreamResponse:
    site = ctx.site_state.site
    zone_of = {z.meter: z.id for z in site.zones if z.meter}
    health = ctx.deps.live.meter_health() if ctx.deps.live else {}
    readings = ctx.deps.live.snapshot().meters if ctx.deps.live else {}
    out = []
    for m in site_doc(site).get("meters", []):
        zone = zone_of.get(m["id"])
        if not ctx.scope.whole_site and not ctx.scope.zone(zone):
            continue
        reading = readings.get(m["id"])
        out.append({"meter": public(m), "zone": zone, "health": health.get(m["id"]),
                    "current": list(reading.current_a) if reading is not None else None})
    return json_response(out)


def _event_query(ctx: Ctx) -> EventQuery:
    types = ctx.q_str("type")
    try:
        parsed = tuple(EventType(t) for t in types.split(",")) if types else ()
    except ValueError:
        raise Problem(400, f"type must be among {', '.join(EVENT_TYPES)}") from None
    return EventQuery(types=parsed, source=ctx.q_str("source"), zone=ctx.q_str("zone"), text=ctx.q_str("text"),
                      at_from=ctx.q_time("from"), at_to=ctx.q_time("to"), before_id=ctx.q_int("before_id"),
                      limit=ctx.q_int("limit", 200, 1, 1000) or 200)


def _event_json(e: Any) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(), "type": e.type.value, "source": e.source, "zone": e.zone,
            "message": e.message, "details": dict(e.details)}


EVENT_PARAMS = (
    Param("type", STR, "comma-separated: " + ", ".join(EVENT_TYPES)), Param("source", STR, "device"),
    Param("zone", STR), Param("text", STR, "substring of the message"), Param("from", TIME), Param("to", TIME),
    Param("before_id", INT, "paging: the smallest id of the previous page"), Param("limit", LIMIT),
)


async def _events(ctx: Ctx) -> list[dict[str, Any]]:
    events = await ctx.deps.store.events.query(_event_query(ctx))
    scope, site = ctx.scope, ctx.site_state.site
    if not scope.whole_site:
        # Site-wide events (security, system) stay with the whole-site operators.
        events = [e for e in events if (e.zone is not None and scope.zone(e.zone)) or scope.station(site, e.source)]
    return [_event_json(e) for e in events]


@api.route("GET", "/events", STAFF, "Browse the event log (newest first)", "events", response=arr(ref("Event")),
           query=EVENT_PARAMS)
async def list_events(ctx: Ctx) -> web.StreamResponse:
    return json_response(await _events(ctx))


@api.route("GET", "/events/export", STAFF, "Download the event log as CSV", "events", response_media="text/csv",
           query=EVENT_PARAMS)
async def export_events(ctx: Ctx) -> web.StreamResponse:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(["id", "at", "type", "source", "zone", "message", "details"])
    for e in await _events(ctx):
        out.writerow([e["id"], e["at"], e["type"], e["source"] or "", e["zone"] or "", e["message"], e["details"]])
    return web.Response(text=buffer.getvalue(), content_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="events.csv"'})


@api.route("GET", "/station-events", STAFF, "Browse status notifications of every station", "stations",
           response=arr(ref("StationEvent")),
           query=(Param("station", STR), Param("connector", INT), Param("status", STR), Param("errors_only", BOOL),
                  Param("before_id", INT), Param("limit", LIMIT)))
async def all_station_events(ctx: Ctx) -> web.StreamResponse:
    q = StationEventQuery(
        station_id=ctx.q_str("station"), connector_id=ctx.q_int("connector"), status=ctx.q_str("status"),
        errors_only=bool(ctx.q_bool("errors_only")), before_id=ctx.q_int("before_id"),
        limit=ctx.q_int("limit", 100, 1, 1000) or 100,
    )
    ok = _station_ok(ctx)
    events = await ctx.deps.store.station_events.query(q)
    return json_response([station_event_json(e) for e in events if ok is None or ok(e.station_id)])


def status_json(ctx: Ctx) -> dict[str, Any]:
    live = ctx.deps.live
    if live is None:
        raise Problem(503, "the controller is not running")
    return status_document(live, ctx.site_state.site, ctx.scope)


def status_document(live: Any, site: Any, scope: Any) -> dict[str, Any]:
    """Per zone and phase: limit, used, reserved, measured, why limited; per
    connector: state, setpoint, measured current (per station-side phase)."""
    allocation = live.allocation()
    snapshot = live.snapshot()
    names = {z.id: z.name for z in site.zones}
    station_zone = {s.id: s.zone for s in site.stations}
    zones, connectors = [], []
    if allocation is not None:
        for z in allocation.zones:
            if scope.zone(z.id):
                zones.append({**z.as_dict(), "name": names.get(z.id),
                              "remote_setpoint": snapshot.remote_setpoints_a.get(z.id)})
        for c in allocation.connectors:
            if not scope.zone(station_zone.get(c.station)):
                continue
            station = snapshot.stations.get(c.station)
            obs = station.connectors.get(c.connector) if station is not None else None
            connectors.append({**c.as_dict(), "status": obs.status if obs else None,
                               "current": list(obs.current_a) if obs and obs.current_a is not None else None})
    online = sorted(s for s in live.connected_stations() if scope.zone(station_zone.get(s)))
    return {"time": allocation.time.isoformat() if allocation else None, "zones": zones,
            "connectors": connectors, "stations_online": online}


@api.route("GET", "/status", STAFF, "Live status of zones and connectors (last control cycle)", "live",
           response=ref("Status"))
async def status(ctx: Ctx) -> web.StreamResponse:
    return json_response(status_json(ctx))
