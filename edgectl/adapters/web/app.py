"""`create_app(deps)`: the aiohttp application of the web adapter.

Dependencies travel in typed app keys (`DEPS`, `AUTH`, `SITE`, `REM`,
`FEEDS`, `BOX`). Start-up (cleanup_ctx, in order): load the site and the
security settings an admin changed from the store, start the remote-energy
watchdog; shutdown reverses it and ends live feeds.
Middlewares: every error becomes problem+json; every response gets the
security headers (no sniffing, no framing, no caching of API answers).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from aiohttp import web

from edgectl import __version__
from edgectl.adapters.web import (
    live,
    rem,
    views_alarms,
    views_auth,
    views_cards,
    views_models,
    views_ops,
    views_site,
    views_stations,
    views_system,
)
from edgectl.adapters.web.auth import Authenticator
from edgectl.adapters.web.boxsettings import BOX, BoxState, load_security
from edgectl.adapters.web.deps import DEPS, WebDeps
from edgectl.adapters.web.openapi import DOCS_HTML, build_document
from edgectl.adapters.web.problems import Problem, from_problem, problem_response
from edgectl.adapters.web.routing import AUTH, PUBLIC, SITE, Api, Ctx, RouteSpec, guard
from edgectl.adapters.web.sitestate import SiteState
from edgectl.adapters.web.ui import setup_ui

log = structlog.get_logger(__name__)

DOCUMENT = web.AppKey("edgectl_openapi", str)
meta = Api()


@meta.route("GET", "/openapi.json", PUBLIC, "Get this OpenAPI document", "meta", response={"type": "object"})
async def openapi(ctx: Ctx) -> web.StreamResponse:
    return web.Response(text=ctx.request.app[DOCUMENT], content_type="application/json")


@meta.route("GET", "/docs", PUBLIC, "Interactive API documentation (HTML)", "meta", response_media="text/html",
            prefix="/api")
async def docs(ctx: Ctx) -> web.StreamResponse:
    resp = web.Response(text=DOCS_HTML, content_type="text/html")
    # Self-contained page: its own inline script and style only, nothing from elsewhere.
    resp.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline' 'self'"
    )
    return resp


_MODULES = (views_auth, views_site, views_stations, views_ops, views_cards, views_alarms, views_system, views_models,
            rem, live)


def all_routes() -> list[RouteSpec]:
    return [spec for module in _MODULES for spec in module.api.routes] + meta.routes


@web.middleware
async def problems_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        resp = await handler(request)
    except Problem as p:
        resp = from_problem(p, request.path)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        detail = {404: f"no such endpoint: {request.path}",
                  405: f"{request.method} is not allowed on {request.path}"}.get(exc.status, exc.reason)
        resp = problem_response(exc.status, detail, instance=request.path)
        if exc.status == 405 and "Allow" in exc.headers:
            resp.headers["Allow"] = exc.headers["Allow"]
    except Exception:
        log.exception("web.unhandled", method=request.method, path=request.path)
        resp = problem_response(500, "internal error; the details are in the box's log", instance=request.path)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/api/"):
        resp.headers.setdefault("Cache-Control", "no-store")
    if request.secure:
        resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return resp


async def _startup(app: web.Application) -> AsyncIterator[None]:
    await app[SITE].load()
    deps = app[DEPS]
    # The security policy an admin changed (box settings) over the defaults.
    app[AUTH].policy, app[BOX].tls10 = await load_security(deps.store, deps.policy, deps.config)
    yield


async def _close_feeds(app: web.Application) -> None:
    app[live.FEEDS].close_all()


def create_app(deps: WebDeps) -> web.Application:
    app = web.Application(middlewares=[problems_middleware], client_max_size=10 * 1024 * 1024)
    app[DEPS] = deps
    app[AUTH] = Authenticator(deps.store, deps.clock, deps.policy)
    app[SITE] = SiteState(deps.store, deps.on_site_changed, deps.models)
    app[rem.REM] = rem.RemoteEnergy(deps.clock, deps.live, deps.store)
    app[live.FEEDS] = live.Feeds()
    app[BOX] = BoxState(tls10=deps.config.tls10)
    app.cleanup_ctx.append(_startup)
    app.cleanup_ctx.append(rem.rem_watchdog)
    app.on_shutdown.append(_close_feeds)

    routes = all_routes()
    for spec in routes:
        app.router.add_route(spec.method, spec.full_path, guard(spec), name=spec.handler.__name__)
    app[DOCUMENT] = json.dumps(build_document(routes, __version__))
    setup_ui(app)  # the browser pages and their static files (docs/ui.md)
    return app
