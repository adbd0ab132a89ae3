"""Site, settings, zones, TOU, digital inputs, the site file, stations.

Writes are Admin-only and whole-site (an operator limited to a zone cannot
reshape the site). Every write goes through `SiteState.edit`, i.e. the site
file's own validation; the running controller gets the new site at once.
Zones and stations are filtered by the caller's operator domain; out-of-scope
ids answer 404 like unknown ones (no probing of other domains).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edgectl.adapters.web.problems import Problem
from edgectl.adapters.web.routing import ADMINS, STAFF, Api, Ctx, json_response
from edgectl.adapters.web.schemas import arr, ref
from edgectl.adapters.web.sitestate import public, site_doc
from edgectl.adapters.web.views_system import security_json
from edgectl.core.site import Site
from edgectl.sitefile import SiteFileError, export_site, load_site

api = Api()


def _settings_json(doc: dict[str, Any]) -> dict[str, Any]:
    settings = dict(doc.get("site", {}))
    settings.setdefault("remote_energy", {"enabled": False, "min_update_period_s": 60, "heartbeat_s": 600,
                                          "time_sync": False})
    return public(settings)


def _visible_doc(ctx: Ctx) -> dict[str, Any]:
    site = ctx.site_state.site
    doc, scope = site_doc(site), ctx.scope
    zones = [public(z) for z in doc.get("zones", []) if scope.zone(z["id"])]
    stations = [public(s) for s in doc.get("stations", []) if scope.zone(s["zone"])]
    meter_ids = {z.get("meter") for z in zones}
    meters = [public(m) for m in doc.get("meters", []) if scope.whole_site or m["id"] in meter_ids]
    tou = doc.get("tou", {"enabled": False})
    return {
        "settings": _settings_json(doc),
        "zones": zones,
        "stations": stations,
        "meters": meters,
        "tou": {"enabled": tou.get("enabled", False), "periods": [public(p) for p in tou.get("periods", [])]},
        "digital_inputs": [public(d) for d in doc.get("digital_inputs", [])],
    }


@api.route("GET", "/site", STAFF, "Show the site (zones, stations, meters, TOU, inputs, settings)", "site",
           response=ref("Site"))
async def get_site(ctx: Ctx) -> web.StreamResponse:
    return json_response(_visible_doc(ctx))


@api.route("GET", "/site/export", ADMINS, "Export the site file (TOML)", "site", response_media="application/toml")
async def export_site_file(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    site = await ctx.deps.store.site.load() or Site()
    return web.Response(text=export_site(site), content_type="application/toml",
                        headers={"Content-Disposition": 'attachment; filename="site.toml"'})


@api.route("PUT", "/site/import", ADMINS, "Import a site file (TOML); replaces the whole site", "site",
           body={"type": "string"}, body_media="text/plain", response=ref("SiteImportResult"),
           description="Validated like `edgectl site import`: any problem changes nothing and is answered 422 "
           "with every problem in `errors`, each naming file, entry and field.")
async def import_site_file(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    raw = await ctx.request.read()
    if len(raw) > 5_000_000:
        raise Problem(413, "site file too large (5 MB at most)")
    try:
        text = raw.decode("utf-8")
        site = load_site(text, "site.toml", ctx.deps.models)
    except UnicodeDecodeError:
        raise Problem(422, "site.toml: file: not UTF-8 text") from None
    except SiteFileError as exc:
        raise Problem(422, exc.messages[0] if len(exc.messages) == 1 else f"{len(exc.messages)} problems",
                      errors=exc.messages) from None
    await ctx.site_state.replace(site)
    await ctx.auth.security("site imported", ctx.actor, zones=len(site.zones), stations=len(site.stations))
    return json_response({"zones": len(site.zones), "stations": len(site.stations), "meters": len(site.meters),
                          "cards": len(site.cards)})


@api.route("GET", "/settings", STAFF, "Show site settings and the security policy", "settings",
           response=ref("SettingsView"))
async def get_settings(ctx: Ctx) -> web.StreamResponse:
    return json_response({"site": _settings_json(site_doc(ctx.site_state.site)), "security": security_json(ctx)})


@api.route("PUT", "/settings", ADMINS, "Change site settings", "settings", body=ref("Settings"),
           response=ref("Settings"), description="Keys as in the site file's [site] table; omitted keys keep "
           "their value. `remote_energy` replaces the remote energy-management settings as a whole.")
async def put_settings(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()

    def change(doc: dict[str, Any]) -> None:
        doc.setdefault("site", {}).update(ctx.body)

    new = await ctx.site_state.edit(change)
    await ctx.auth.security("settings changed", ctx.actor, keys=sorted(ctx.body))
    return json_response(_settings_json(site_doc(new)))


@api.route("GET", "/zones", STAFF, "List zones", "zones", response=arr(ref("Zone")))
async def list_zones(ctx: Ctx) -> web.StreamResponse:
    return json_response(_visible_doc(ctx)["zones"])


@api.route("GET", "/zones/{zone_id}", STAFF, "Show a zone", "zones", response=ref("Zone"))
async def get_zone(ctx: Ctx) -> web.StreamResponse:
    for z in _visible_doc(ctx)["zones"]:
        if z["id"] == ctx.match("zone_id"):
            return json_response(z)
    raise Problem(404, f"no zone {ctx.match('zone_id')!r}")


@api.route("PUT", "/zones", ADMINS, "Replace the zone tree", "zones", body=arr(ref("Zone")),
           response=arr(ref("Zone")), description="The whole tree at once (a tree is only valid as a whole).")
async def put_zones(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    new = await ctx.site_state.edit(lambda doc: doc.__setitem__("zones", ctx.body))
    return json_response([public(z) for z in site_doc(new).get("zones", [])])


@api.route("GET", "/tou", STAFF, "Show time-of-use periods", "tou", response=ref("Tou"))
async def get_tou(ctx: Ctx) -> web.StreamResponse:
    return json_response(_visible_doc(ctx)["tou"])


@api.route("PUT", "/tou", ADMINS, "Replace time-of-use periods", "tou", body=ref("Tou"), response=ref("Tou"))
async def put_tou(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    new = await ctx.site_state.edit(lambda doc: doc.__setitem__("tou", ctx.body))
    tou = site_doc(new).get("tou", {"enabled": False})
    return json_response({"enabled": tou.get("enabled", False), "periods": [public(p) for p in tou.get("periods", [])]})


def _inputs(ctx: Ctx, site: Site) -> list[dict[str, Any]]:
    live = ctx.deps.live.snapshot().digital_inputs if ctx.deps.live is not None else {}
    return [{**public(d), "active": live.get(d["channel"])} for d in site_doc(site).get("digital_inputs", [])]


@api.route("GET", "/digital-inputs", STAFF, "List digital inputs with their live state", "digital inputs",
           response=ref("DigitalInputs"))
async def get_inputs(ctx: Ctx) -> web.StreamResponse:
    return json_response({"inputs": _inputs(ctx, ctx.site_state.site)})


@api.route("PUT", "/digital-inputs", ADMINS, "Replace digital-input settings", "digital inputs",
           body=ref("DigitalInputs"), response=ref("DigitalInputs"))
async def put_inputs(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    inputs = [{k: v for k, v in d.items() if k != "active"} for d in ctx.body["inputs"]]
    new = await ctx.site_state.edit(lambda doc: doc.__setitem__("digital_inputs", inputs))
    return json_response({"inputs": _inputs(ctx, new)})
