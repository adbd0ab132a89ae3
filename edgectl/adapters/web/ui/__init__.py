"""The browser UI: server-rendered pages, small vanilla scripts, no build step.

`setup_ui(app)` adds the pages (`/`, `/login`, `/ui/...`) and the static
files (`/static/...`) to the web adapter's application. Pages render the
layout and the translated static text; their scripts read the REST API and
the live feed. See docs/ui.md.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from edgectl.adapters.web.ui import pages

STATIC = Path(__file__).with_name("static")


def setup_ui(app: web.Application) -> None:
    app.router.add_get("/", pages.home, name="ui_home")
    app.router.add_get("/login", pages.login_page, name="ui_login")
    app.router.add_get("/ui/lang", pages.set_language, name="ui_lang")
    app.router.add_get("/ui/admin/{section}", pages.page, name="ui_admin")
    app.router.add_get("/ui/zone/{ident}", pages.page, name="ui_zone")
    app.router.add_get("/ui/station/{ident}", pages.page, name="ui_station")
    app.router.add_get("/ui/{name}", pages.page, name="ui_page")
    app.router.add_static("/static/", STATIC, name="ui_static", append_version=False)


__all__ = ["setup_ui"]
