"""Remote energy management (SPEC §6): one designated webservices login caps zones.

Rules:
- only when `SiteSettings.remote_energy.enabled`, and only the login named in
  `remote_energy.login` (a webservices account) may set or clear setpoints;
- per zone, within `min_update_period_s` after an ACCEPTED value only that
  first value counts: later ones are answered 429 with `Retry-After` and
  `retry_after_s` (the time left) and change nothing;
- a heartbeat (`POST /rem/heartbeat`), and any accepted setpoint, proves the
  remote system alive; when none came for `heartbeat_s`, every zone it caps
  returns to local control (`LiveStatus.set_remote_setpoint(zone, None)`),
  logged and recorded in the event log;
- time sync, when `remote_energy.time_sync` is on, records the offset
  between the client's clock and ours; the system clock is never changed.
- state lives in memory: after a restart every zone is under local control
  (fail safe: no stale cap survives), until the remote system sends again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web

from edgectl.adapters.store import Event, EventType, Store
from edgectl.adapters.web.deps import DEPS
from edgectl.adapters.web.problems import Problem
from edgectl.adapters.web.routing import SITE, STAFF, WEBSERVICES, Api, Ctx, json_response, parse_time
from edgectl.adapters.web.schemas import ref
from edgectl.clock import Clock
from edgectl.core.site import RemoteEnergyManagement
from edgectl.ports import LiveStatus

log = structlog.get_logger(__name__)
api = Api()


@dataclass
class ZoneControl:
    amps: float
    accepted_at: float  # monotonic


class RemoteEnergy:
    def __init__(self, clock: Clock, live: LiveStatus | None, store: Store) -> None:
        self._clock = clock
        self._live = live
        self._store = store
        self.zones: dict[str, ZoneControl] = {}
        self.last_heartbeat: float | None = None
        self.time_offset_s: float | None = None

    def heartbeat(self) -> None:
        self.last_heartbeat = self._clock.monotonic()

    def set_setpoint(self, settings: RemoteEnergyManagement, zone: str, amps: float | None) -> tuple[bool, float]:
        """(accepted, seconds until the next value counts)."""
        now = self._clock.monotonic()
        current = self.zones.get(zone)
        if current is not None:
            left = current.accepted_at + settings.min_update_period_s - now
            if left > 0:
                return False, left
        if self._live is None:
            raise Problem(503, "the controller is not running")
        self._live.set_remote_setpoint(zone, amps)
        if amps is None:
            self.zones.pop(zone, None)
        else:
            self.zones[zone] = ZoneControl(amps, now)
        self.heartbeat()
        log.info("rem.setpoint", zone=zone, amps=amps)
        return True, float(settings.min_update_period_s)

    async def check(self, settings: RemoteEnergyManagement) -> list[str]:
        """Return zones to local control when the heartbeat stopped (or REM is off)."""
        if not self.zones:
            return []
        now = self._clock.monotonic()
        lost = not settings.enabled or self.last_heartbeat is None or now - self.last_heartbeat > settings.heartbeat_s
        if not lost:
            return []
        released = sorted(self.zones)
        # Release every zone before the first await: the state a reader sees
        # (GET /rem, the control loop) never lags the stations.
        self.zones.clear()
        for zone in released:
            if self._live is not None:
                self._live.set_remote_setpoint(zone, None)
        for zone in released:
            log.warning("rem.heartbeat_lost", zone=zone, heartbeat_s=settings.heartbeat_s)
            await self._store.events.append(Event(
                EventType.SYSTEM, "remote energy management: heartbeat lost, zone back to local control",
                source="web", zone=zone, details={"heartbeat_s": settings.heartbeat_s},
            ))
        return released


REM = web.AppKey("edgectl_rem", RemoteEnergy)


async def rem_watchdog(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the heartbeat watcher, a named task owned by the app."""
    deps = app[DEPS]
    interval = deps.rem_watch_s
    task: asyncio.Task[None] | None = None
    if interval is not None:

        async def watch() -> None:
            while True:
                await deps.clock.sleep(interval)
                try:
                    await app[REM].check(app[SITE].site.settings.remote_energy)
                except Exception:  # a store hiccup must not end the watcher
                    log.exception("rem.check_failed")

        task = asyncio.create_task(watch(), name="web-rem-watchdog")
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _settings_for_caller(ctx: Ctx) -> RemoteEnergyManagement:
    s = ctx.site_state.site.settings.remote_energy
    if not s.enabled:
        raise Problem(409, "remote energy management is disabled (site settings: remote_energy.enabled)")
    if s.login is None or s.login.lower() != ctx.user.username.lower():
        raise Problem(403, "only the designated remote energy-management login may do this")
    return s


@api.route("PUT", "/zones/{zone_id}/setpoint", frozenset({WEBSERVICES}), "Set or clear a zone's remote setpoint",
           "remote energy", body=ref("Setpoint"), response=ref("SetpointResult"),
           description="`amps` caps the zone (A per phase); null returns it to local control. Within the minimum "
           "update period after an accepted value, later values are refused with 429 and `retry_after_s`.")
async def put_setpoint(ctx: Ctx) -> web.StreamResponse:
    settings = _settings_for_caller(ctx)
    zone = ctx.match("zone_id")
    if not any(z.id == zone for z in ctx.site_state.site.zones) or not ctx.scope.zone(zone):
        raise Problem(404, f"no zone {zone!r}")
    amps = ctx.body["amps"]
    accepted, left = ctx.request.app[REM].set_setpoint(settings, zone, amps)
    if not accepted:
        wait = int(left) + 1
        raise Problem(429, f"only the first value of each {settings.min_update_period_s} s period counts; "
                      f"next value accepted in {left:.1f} s", headers={"Retry-After": str(wait)},
                      retry_after_s=round(left, 1))
    await ctx.deps.store.events.append(Event(EventType.SYSTEM, "remote energy management: zone setpoint",
                                             source="web", zone=zone, details={"amps": amps, "actor": ctx.actor}))
    return json_response({"zone": zone, "amps": amps, "accepted": True, "next_update_s": left})


@api.route("POST", "/rem/heartbeat", frozenset({WEBSERVICES}), "Send the remote energy-management heartbeat",
           "remote energy", response=ref("RemStatus"))
async def heartbeat(ctx: Ctx) -> web.StreamResponse:
    _settings_for_caller(ctx)
    ctx.request.app[REM].heartbeat()
    return json_response(_status(ctx))


def _status(ctx: Ctx) -> dict[str, Any]:
    s = ctx.site_state.site.settings.remote_energy
    rem = ctx.request.app[REM]
    now = ctx.deps.clock.monotonic()
    return {
        "enabled": s.enabled, "login": s.login, "min_update_period_s": s.min_update_period_s,
        "heartbeat_s": s.heartbeat_s, "time_sync": s.time_sync,
        "last_heartbeat_age_s": None if rem.last_heartbeat is None else round(now - rem.last_heartbeat, 3),
        "zones": {z: {"amps": c.amps, "age_s": round(now - c.accepted_at, 3)} for z, c in rem.zones.items()},
        "time_offset_s": rem.time_offset_s,
    }


@api.route("GET", "/rem", STAFF, "Show remote energy-management state", "remote energy", response=ref("RemStatus"))
async def rem_status(ctx: Ctx) -> web.StreamResponse:
    return json_response(_status(ctx))


@api.route("POST", "/rem/time", frozenset({WEBSERVICES}), "Time sync: report the client's clock", "remote energy",
           body=ref("TimeSync"), response=ref("TimeSyncResult"),
           description="Only when remote_energy.time_sync is on (409 otherwise). The offset (client - box) is "
           "recorded and logged; the box's system clock is not changed.")
async def time_sync(ctx: Ctx) -> web.StreamResponse:
    settings = _settings_for_caller(ctx)
    if not settings.time_sync:
        raise Problem(409, "time sync is disabled (site settings: remote_energy.time_sync)")
    client = parse_time(ctx.body["time"], "time")
    try:
        offset = (client - ctx.deps.clock.now()).total_seconds()
    except OverflowError:
        raise Problem(400, "time is out of range") from None
    rem = ctx.request.app[REM]
    rem.time_offset_s = offset
    rem.heartbeat()
    log.info("rem.time_offset", offset_s=offset)
    await ctx.deps.store.events.append(Event(EventType.SYSTEM, "remote energy management: time offset recorded",
                                             source="web", details={"offset_s": offset}))
    return json_response({"offset_s": offset, "applied": False})
