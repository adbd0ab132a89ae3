"""Page handlers: each page is the shared layout around one template and one
script. The script fills the page from the REST API (same session cookie,
CSRF token from the readable cookie) and the live feed `/api/v1/live`.

Access: no session -> the login page; the factory account -> the wizard only;
Admin pages -> Admin only (others get a 403 page). The API checks again on
every call, the page check only spares people a page full of errors.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from edgectl import __version__
from edgectl.adapters.web.auth import SESSION_COOKIE, Principal
from edgectl.adapters.web.routing import AUTH, SITE
from edgectl.adapters.web.ui.i18n import LANG_COOKIE, LANGUAGES, catalog, pick_language, translator
from edgectl.adapters.web.ui.render import render_file

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
STAFF_UI = frozenset({"admin", "user"})
ADMIN_UI = frozenset({"admin"})
WIZARD_UI = frozenset({"admin", "factory"})
CURRENT = ' aria-current="page"'


@dataclass(frozen=True)
class Page:
    title: str  # English msgid
    template: str
    script: str
    roles: frozenset[str]


def _(msgid: str) -> str:
    """Marks a msgid for the catalogs; translated when rendered."""
    return msgid


PAGES: dict[str, Page] = {
    "dashboard": Page(_("Dashboard"), "dashboard.html", "dashboard.js", STAFF_UI),
    "zone": Page(_("Zone"), "zone.html", "station.js", STAFF_UI),
    "station": Page(_("Station"), "station.html", "station.js", STAFF_UI),
    "sessions": Page(_("Sessions"), "sessions.html", "sessions.js", STAFF_UI),
    "events": Page(_("Station events"), "events.html", "sessions.js", STAFF_UI),
    "alarms": Page(_("Alarms"), "alarms.html", "alarms.js", STAFF_UI),
    "cards": Page(_("Cards"), "cards.html", "cards.js", STAFF_UI),
    "wizard": Page(_("Commissioning wizard"), "wizard.html", "forms.js wizard.js", WIZARD_UI),
    "password": Page(_("My password"), "password.html", "admin_ops.js", STAFF_UI),
}
ADMIN_SECTIONS: dict[str, tuple[str, str]] = {  # section -> (title msgid, script)
    "network": (_("Network"), "admin_site.js"),
    "supervision": (_("Remote supervision"), "admin_site.js"),
    "shedding": (_("Load shedding"), "admin_site.js"),
    "zones": (_("Zones"), "forms.js admin_site.js"),
    "meters": (_("Power meters"), "admin_ops.js"),
    "tou": (_("Time of use"), "admin_site.js"),
    "inputs": (_("Digital inputs"), "admin_site.js"),
    "advanced": (_("Advanced settings"), "admin_site.js"),
    "users": (_("Users"), "admin_ops.js"),
    "installation": (_("Station installation"), "forms.js admin_ops.js"),
    "logs": (_("Logs"), "admin_ops.js"),
    "maintenance": (_("Maintenance report"), "admin_ops.js"),
    "system": (_("System"), "admin_ops.js"),
}
for _section, (_title, _script) in ADMIN_SECTIONS.items():
    PAGES[f"admin/{_section}"] = Page(_title, f"admin/{_section}.html", _script, ADMIN_UI)


def language(request: web.Request) -> str:
    return pick_language(request.query.get("lang"), request.cookies.get(LANG_COOKIE),
                         request.headers.get("Accept-Language"))


async def principal_of(request: web.Request) -> Principal | None:
    sid = request.cookies.get(SESSION_COOKIE)
    return None if sid is None else await request.app[AUTH].from_cookie(sid)


def _html(body: str, status: int = 200) -> web.Response:
    resp = web.Response(text=body, content_type="text/html", status=status)
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _nav(name: str, who: Principal, gettext: Callable[[str], str]) -> str:
    gt = gettext
    items = [("dashboard", _("Dashboard")), ("sessions", _("Sessions")), ("events", _("Station events")),
             ("alarms", _("Alarms")), ("cards", _("Cards"))]
    if who.role == "factory":
        items = [("wizard", _("Commissioning wizard"))]
    elif who.role == "admin":
        # The wizard can be run again from the menu (each step shows the current settings).
        items += [("admin/network", _("Admin")), ("wizard", _("Commissioning wizard"))]
    links = []
    for target, label in items:
        current = name == target or (target.startswith("admin") and name.startswith("admin"))
        text = html.escape(gt(label))
        links.append(f'<a href="/ui/{target}"{CURRENT if current else ""}>{text}</a>')
    return "".join(links)


def _admin_nav(name: str, gettext: Callable[[str], str]) -> str:
    if not name.startswith("admin/"):
        return ""
    links = "".join(
        f'<a href="/ui/admin/{s}"{CURRENT if name == f"admin/{s}" else ""}>'
        f"{html.escape(gettext(t))}</a>"
        for s, (t, _s) in ADMIN_SECTIONS.items())
    return f'<nav class="subnav" aria-label="admin">{links}</nav>'


def _languages(lang: str, path: str) -> str:
    opts = "".join(f'<option value="{code}"{" selected" if code == lang else ""}>{html.escape(name)}</option>'
                   for code, name in LANGUAGES.items())
    return (f'<form class="lang" method="get" action="/ui/lang"><input type="hidden" name="next" '
            f'value="{html.escape(path)}"><select name="lang" id="lang-select" aria-label="Language">{opts}'
            f'</select></form>')


def page_response(request: web.Request, name: str, who: Principal,
                  extra: dict[str, str] | None = None) -> web.Response:
    page = PAGES[name]
    lang = language(request)
    gettext = translator(lang)
    site = request.app[SITE].site
    values: dict[str, object] = {**(extra or {}), "version": __version__}
    body = render_file(page.template, values, gettext)
    layout = render_file("layout.html", {
        "lang": lang, "title": gettext(page.title), "site_name": site.settings.name or "edgectl",
        "nav": _nav(name, who, gettext), "subnav": _admin_nav(name, gettext), "page": name,
        "languages": _languages(lang, request.path_qs), "username": who.username, "role": who.role,
        "body": body,
        "scripts": "".join(f'<script src="/static/js/{js}"></script>' for js in page.script.split()),
        "version": __version__,
        "catalog": json.dumps(catalog(lang), ensure_ascii=True).replace("</", "<\\/"),
    }, gettext)
    return _html(layout)


async def page(request: web.Request) -> web.StreamResponse:
    name = request.match_info.get("name", "dashboard")
    section = request.match_info.get("section")
    extra: dict[str, str] = {}
    if section is not None:
        name = f"admin/{section}"
    if "ident" in request.match_info:
        name = request.path.split("/")[2]  # /ui/zone/<id> or /ui/station/<id>
        extra["ident"] = request.match_info["ident"]
    if name not in PAGES:
        raise web.HTTPNotFound()
    who = await principal_of(request)
    if who is None:
        raise web.HTTPFound(f"/login?next={quote(request.path_qs)}")
    if who.role == "factory" and name != "wizard":
        raise web.HTTPFound("/ui/wizard")
    if who.role not in PAGES[name].roles:
        gettext = translator(language(request))
        refused = html.escape(gettext(_("Your profile may not open this page.")))
        back = html.escape(gettext(_("Dashboard")))
        return _html(f'<!doctype html><title>403</title><p>{refused} <a href="/ui/dashboard">{back}</a></p>', 403)
    return page_response(request, name, who, extra)


async def login_page(request: web.Request) -> web.StreamResponse:
    lang = language(request)
    gettext = translator(lang)
    body = render_file("login.html", {
        "lang": lang, "languages": _languages(lang, request.path_qs), "version": __version__,
        "catalog": json.dumps(catalog(lang), ensure_ascii=True).replace("</", "<\\/"),
        "site_name": request.app[SITE].site.settings.name or "edgectl",
    }, gettext)
    return _html(body)


async def home(request: web.Request) -> web.StreamResponse:
    who = await principal_of(request)
    if who is None:
        raise web.HTTPFound("/login")
    raise web.HTTPFound("/ui/wizard" if who.role == "factory" else "/ui/dashboard")


async def set_language(request: web.Request) -> web.StreamResponse:
    lang = request.query.get("lang", "")
    target = request.query.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    resp = web.HTTPFound(target)
    if lang in LANGUAGES:
        resp.set_cookie(LANG_COOKIE, lang, max_age=10 * 365 * 86400, samesite="Strict", path="/")
    raise resp
