"""Alarms (SPEC §7): the active list, the history, and an operator's clear.

An alarm's `source` is a station identity or a meter id. A user limited to a
zone sees (and clears) the alarms of the stations in its domain and of the
meters of its zones; an alarm outside it answers 404 like an unknown one.
Clearing is for operators (Admin, User); the Webservices profile reads only.
An operator's clear goes through the running alarm monitor (it then stops
expecting the alarm: if the condition persists it is not raised again until
it has gone away once), is stored with the operator's login and logged.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edgectl.adapters.store import Alarm, AlarmQuery, Event, EventType
from edgectl.adapters.web.problems import Problem
from edgectl.adapters.web.routing import ADMIN, STAFF, USER, Api, Ctx, Param, json_response
from edgectl.adapters.web.schemas import BOOL, INT, STR, TIME, arr, ref
from edgectl.services.alarms import alarm_dict

api = Api()
OPERATORS = frozenset({ADMIN, USER})
KINDS = ["station_offline", "meter_unreachable", "connector_faulted", "setpoint_not_respected", "profile_rejected"]
KIND = {"type": "string", "enum": KINDS}
LIMIT = {"type": "integer", "minimum": 1, "maximum": 1000}


def _visible(ctx: Ctx) -> Any:
    """A filter of alarms by the caller's operator domain (None: everything)."""
    scope, site = ctx.scope, ctx.site_state.site
    if scope.whole_site:
        return None
    meters = {z.meter for z in site.zones if z.meter and scope.zone(z.id)}
    return lambda a: a.source in meters or scope.station(site, a.source)


def _kind(ctx: Ctx) -> str | None:
    kind = ctx.q_str("kind")
    if kind is not None and kind not in KINDS:
        raise Problem(400, f"kind must be one of {', '.join(KINDS)}")
    return kind


def _zone_filter(ctx: Ctx) -> Any:
    """?zone=: alarms of the stations of this zone subtree and of its meters."""
    zone = ctx.q_str("zone")
    if zone is None:
        return None
    site = ctx.site_state.site
    if all(z.id != zone for z in site.zones) or not ctx.scope.zone(zone):
        raise Problem(404, f"no zone {zone!r}")
    ids = {zone}
    grew = True
    while grew:
        more = {z.id for z in site.zones if z.parent in ids} - ids
        ids |= more
        grew = bool(more)
    sources = {s.id for s in site.stations if s.zone in ids} | {z.meter for z in site.zones if z.id in ids and z.meter}
    return lambda a: a.source in sources


def _filtered(ctx: Ctx, alarms: list[Alarm]) -> list[dict[str, Any]]:
    checks = [f for f in (_visible(ctx), _zone_filter(ctx)) if f is not None]
    return [alarm_dict(a) for a in alarms if all(f(a) for f in checks)]


FILTERS = (Param("kind", KIND), Param("source", STR, "a station identity or a meter id"),
           Param("zone", STR, "alarms of the stations and meters of this zone and its sub-zones"))


@api.route("GET", "/alarms", STAFF, "List active alarms (oldest first)", "alarms", response=arr(ref("Alarm")),
           query=FILTERS)
async def list_alarms(ctx: Ctx) -> web.StreamResponse:
    kind = _kind(ctx)
    alarms = await ctx.deps.store.alarms.active(ctx.q_str("source"))
    return json_response(_filtered(ctx, [a for a in alarms if kind is None or a.kind == kind]))


@api.route("GET", "/alarms/history", STAFF, "Browse the alarm history (newest first)", "alarms",
           response=arr(ref("Alarm")),
           query=(*FILTERS, Param("active", BOOL, "only active (true) or only cleared (false) alarms"),
                  Param("from", TIME, "raised at or after"), Param("to", TIME, "raised before"),
                  Param("before_id", INT, "paging: the smallest id of the previous page"), Param("limit", LIMIT)))
async def alarm_history(ctx: Ctx) -> web.StreamResponse:
    q = AlarmQuery(kind=_kind(ctx), source=ctx.q_str("source"), active=ctx.q_bool("active"),
                   raised_from=ctx.q_time("from"), raised_to=ctx.q_time("to"), before_id=ctx.q_int("before_id"),
                   limit=ctx.q_int("limit", 100, 1, 1000) or 100)
    return json_response(_filtered(ctx, await ctx.deps.store.alarms.query(q)))


async def _alarm_or_404(ctx: Ctx) -> Alarm:
    raw = ctx.match("alarm_id")
    try:
        alarm_id = int(raw)
    except ValueError:
        raise Problem(400, "alarm_id must be an integer") from None
    alarm = await ctx.deps.store.alarms.get(alarm_id) if abs(alarm_id) < 2**53 else None
    visible = _visible(ctx)
    if alarm is None or (visible is not None and not visible(alarm)):
        raise Problem(404, f"no alarm {raw}")
    return alarm


@api.route("GET", "/alarms/{alarm_id}", STAFF, "Show an alarm", "alarms", response=ref("Alarm"))
async def get_alarm(ctx: Ctx) -> web.StreamResponse:
    return json_response(alarm_dict(await _alarm_or_404(ctx)))


@api.route("POST", "/alarms/{alarm_id}/clear", OPERATORS, "Clear (acknowledge) an active alarm", "alarms",
           response=ref("Alarm"),
           description="Records who cleared it. 409 when the alarm is already cleared. If its condition persists "
           "it is not raised again until the condition has gone away once.")
async def clear_alarm(ctx: Ctx) -> web.StreamResponse:
    alarm = await _alarm_or_404(ctx)
    assert alarm.id is not None
    if not alarm.active:
        raise Problem(409, f"alarm {alarm.id} was already cleared by {alarm.cleared_by}")
    if ctx.deps.alarms is not None:
        cleared = await ctx.deps.alarms.clear(alarm.id, ctx.actor)
    else:
        cleared = await ctx.deps.store.alarms.clear_id(alarm.id, by=ctx.actor)
        if cleared is not None:
            await ctx.deps.store.events.append(Event(
                EventType.SYSTEM, f"alarm cleared by {ctx.actor}: {cleared.message}", source=cleared.source,
                details={"alarm_id": cleared.id, "kind": cleared.kind, "by": ctx.actor}))
    if cleared is None:
        raise Problem(409, f"alarm {alarm.id} was already cleared")
    return json_response(alarm_dict(cleared))
