"""The live feed for the dashboard: Server-Sent Events at `/api/v1/live`.

Rules:
- after every control cycle (`LiveStatus.subscribe`) each client gets the
  status document of `GET /api/v1/status` (scoped to its operator domain) as
  one `event: status`; the first one is sent on connect;
- backpressure: a client holds at most ONE pending update; a slow client
  skips intermediate cycles and always gets the latest (drop to latest), so
  a stalled browser never grows memory or slows the controller;
- the subscribe callback only flips a flag (it runs inside the control loop);
  the status is built in the client's own handler;
- a comment line every 15 s keeps proxies from closing an idle stream;
  shutdown ends every stream at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import web

from edgectl.adapters.web.problems import Problem
from edgectl.adapters.web.routing import STAFF, Api, Ctx
from edgectl.adapters.web.views_ops import status_json

api = Api()
KEEPALIVE_S = 15.0


class Feeds:
    """Open SSE streams, so that shutdown can end them."""

    def __init__(self) -> None:
        self.wakeups: set[asyncio.Event] = set()
        self.closing = False

    def close_all(self) -> None:
        self.closing = True
        for event in self.wakeups:
            event.set()


FEEDS = web.AppKey("edgectl_feeds", Feeds)


@api.route("GET", "/live", STAFF, "Live feed of the status after each control cycle (SSE)", "live",
           response_media="text/event-stream",
           description="text/event-stream; each `event: status` carries the JSON of GET /api/v1/status. Slow "
           "clients get only the latest status (intermediate cycles are dropped).")
async def live_feed(ctx: Ctx) -> web.StreamResponse:
    live = ctx.deps.live
    if live is None:
        raise Problem(503, "the controller is not running")
    feeds = ctx.request.app[FEEDS]
    wake = asyncio.Event()
    wake.set()  # the current status right away
    unsubscribe = live.subscribe(lambda _allocation: wake.set())
    feeds.wakeups.add(wake)
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                       "X-Accel-Buffering": "no"})
    try:
        await resp.prepare(ctx.request)
        while not feeds.closing:
            try:
                await asyncio.wait_for(wake.wait(), KEEPALIVE_S)
            except TimeoutError:
                await resp.write(b": keep-alive\n\n")
                continue
            wake.clear()  # updates arriving while we write collapse into one
            if feeds.closing:
                break
            data = json.dumps(status_json(ctx), default=str)
            await resp.write(f"event: status\ndata: {data}\n\n".encode())
    except ConnectionResetError:
        pass
    finally:
        unsubscribe()
        feeds.wakeups.discard(wake)
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await resp.write_eof()
    return resp
