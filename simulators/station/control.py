"""A small HTTP control channel for a running fleet (aiohttp, 127.0.0.1 only).

Routes (JSON answers):
  GET  /stations                              every station's state
  GET  /stations/{id}                         one station
  POST /stations/{id}/plug?connector=1&id_tag=T&phases=3&max_a=32&soc=0.3
  POST /stations/{id}/unplug?connector=1
  POST /stations/{id}/offline | /online
Unknown station -> 404; bad parameters -> 400.
"""

from __future__ import annotations

from aiohttp import web

from simulators.station.ev import Car
from simulators.station.fleet import Fleet, describe

_FLEET: web.AppKey[Fleet] = web.AppKey("fleet", Fleet)


def _station(request: web.Request):  # type: ignore[no-untyped-def]
    st = request.app[_FLEET].stations.get(request.match_info["id"])
    if st is None:
        raise web.HTTPNotFound(text="unknown station")
    return st


async def _list(request: web.Request) -> web.Response:
    return web.json_response(request.app[_FLEET].snapshot())


async def _one(request: web.Request) -> web.Response:
    return web.json_response(describe(_station(request)))


async def _plug(request: web.Request) -> web.Response:
    st, q = _station(request), request.query
    try:
        car = Car(phases=int(q.get("phases", 3)), max_current_a=float(q.get("max_a", 32)),
                  soc=float(q.get("soc", 0.3)), capacity_wh=float(q.get("capacity_wh", 60_000)))
        st.plug_in(int(q.get("connector", 1)), car, id_tag=q.get("id_tag"))
    except (KeyError, ValueError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    return web.json_response(describe(st))


async def _unplug(request: web.Request) -> web.Response:
    st = _station(request)
    try:
        st.unplug(int(request.query.get("connector", 1)))
    except (KeyError, ValueError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    return web.json_response(describe(st))


async def _offline(request: web.Request) -> web.Response:
    st = _station(request)
    await st.go_offline()
    return web.json_response(describe(st))


async def _online(request: web.Request) -> web.Response:
    st = _station(request)
    await st.go_online(wait=False)
    return web.json_response(describe(st))


def make_app(fleet: Fleet) -> web.Application:
    app = web.Application()
    app[_FLEET] = fleet
    app.router.add_get("/stations", _list)
    app.router.add_get("/stations/{id}", _one)
    app.router.add_post("/stations/{id}/plug", _plug)
    app.router.add_post("/stations/{id}/unplug", _unplug)
    app.router.add_post("/stations/{id}/offline", _offline)
    app.router.add_post("/stations/{id}/online", _online)
    return app


async def serve_control(fleet: Fleet, port: int) -> web.AppRunner:
    runner = web.AppRunner(make_app(fleet))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner
