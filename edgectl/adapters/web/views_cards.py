"""RFID cards: list with filters, CRUD, bulk change/delete, import and export.

Formats (docs/api.md): JSON (a list of Card objects, as the API returns) and
CSV with the header `id_tag,vip,authorized,comment,zones,valid_from,valid_to`
(zones separated by `|`, empty = every zone); import also takes a charging
station's badge export, told apart by content (cards_import). Import REPLACES
the card list (SPEC §6), validated as a whole first (site-file checks: zone
names, dates, duplicates), every problem reported by line and field. An
operator limited to a zone sees cards usable in it and may only change or
delete cards limited to zones of its domain; import is whole-site only.
Every change reaches the running controller at once.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from aiohttp import web

from edgectl.adapters.store import KEEP, CardFilter, CardPatch, StoredCard
from edgectl.adapters.web import cards_import
from edgectl.adapters.web.cards_import import CSV_COLUMNS
from edgectl.adapters.web.problems import Problem
from edgectl.adapters.web.routing import STAFF, Api, Ctx, Param, json_response, parse_time
from edgectl.adapters.web.schemas import BOOL, STR, arr, ref
from edgectl.adapters.web.sitestate import site_doc
from edgectl.core.site import Card
from edgectl.sitefile.errors import SiteFileError

api = Api()


def card_json(sc: StoredCard) -> dict[str, Any]:
    c = sc.card
    return {
        "id_tag": c.id_tag, "vip": c.vip, "authorized": c.authorized, "comment": c.comment,
        "zones": list(c.zones) if c.zones is not None else None,
        "registered": c.registered.isoformat() if c.registered else None,
        "last_seen": c.last_seen.isoformat() if c.last_seen else None,
        "valid_from": c.valid_from.isoformat() if c.valid_from else None,
        "valid_to": c.valid_to.isoformat() if c.valid_to else None,
        "last_seen_station": sc.last_seen_station,
    }


def _card_entry(raw: dict[str, Any]) -> dict[str, Any]:
    """An API card as a [[cards]] site-file entry (for the site file's checks)."""
    entry: dict[str, Any] = {"id_tag": raw["id_tag"], "vip": bool(raw.get("vip", False)),
                             "authorized": bool(raw.get("authorized", True))}
    if raw.get("comment"):
        entry["comment"] = raw["comment"]
    if raw.get("zones") is not None:
        entry["zones"] = list(raw["zones"])
    for key in ("valid_from", "valid_to", "last_seen"):
        if raw.get(key):
            entry[key] = parse_time(str(raw[key]), f"{raw['id_tag']}: {key}")
    if raw.get("registered"):
        registered = raw["registered"]
        try:
            entry["registered"] = date.fromisoformat(registered) if isinstance(registered, str) else registered
        except ValueError:
            raise Problem(400, f"{raw['id_tag']}: registered must be a date (YYYY-MM-DD)") from None
    return entry


def _validated(ctx: Ctx, entries: list[dict[str, Any]]) -> list[Card]:
    """Cards checked by the site file's rules against the current zones."""
    doc = site_doc(ctx.site_state.site)
    doc["cards"] = entries
    return list(ctx.site_state.parse(doc, "cards").cards)


async def _store_card(ctx: Ctx, raw: dict[str, Any]) -> Card:
    if not ctx.scope.card_editable(tuple(raw["zones"]) if raw.get("zones") is not None else None):
        raise Problem(403, "your account is limited to a zone: a card must be limited to zones of your domain")
    card = next(c for c in _validated(ctx, [_card_entry(raw)]) if c.id_tag == raw["id_tag"])
    await ctx.deps.store.cards.upsert(card)
    await ctx.site_state.reload()
    return card


async def _visible(ctx: Ctx, id_tag: str) -> StoredCard:
    sc = await ctx.deps.store.cards.get(id_tag)
    if sc is None or not ctx.scope.card_visible(sc.card.zones):
        raise Problem(404, f"no card {id_tag!r}")
    return sc


@api.route("GET", "/cards", STAFF, "List cards", "cards", response=arr(ref("Card")),
           query=(Param("id_tag", STR, "substring"), Param("comment", STR, "substring"),
                  Param("zone", STR, "usable in this zone"), Param("vip", BOOL), Param("authorized", BOOL),
                  Param("offset", {"type": "integer", "minimum": 0}),
                  Param("limit", {"type": "integer", "minimum": 1, "maximum": 10000})))
async def list_cards(ctx: Ctx) -> web.StreamResponse:
    flt = CardFilter(id_tag_contains=ctx.q_str("id_tag"), comment_contains=ctx.q_str("comment"),
                     zone=ctx.q_str("zone"), vip=ctx.q_bool("vip"), authorized=ctx.q_bool("authorized"),
                     limit=ctx.q_int("limit", None, 1, 10000), offset=ctx.q_int("offset", 0, 0) or 0)
    cards = await ctx.deps.store.cards.list(flt)
    return json_response([card_json(c) for c in cards if ctx.scope.card_visible(c.card.zones)])


@api.route("POST", "/cards", STAFF, "Add a card", "cards", body=ref("Card"), response=ref("Card"), status=201)
async def add_card(ctx: Ctx) -> web.StreamResponse:
    if await ctx.deps.store.cards.get(ctx.body["id_tag"]) is not None:
        raise Problem(409, f"card {ctx.body['id_tag']!r} already exists")
    card = await _store_card(ctx, ctx.body)
    return json_response(card_json(await _visible(ctx, card.id_tag)), 201)


@api.route("GET", "/cards/export", STAFF, "Export cards (JSON or CSV)", "cards", response=arr(ref("Card")),
           query=(Param("format", {"type": "string", "enum": ["json", "csv"]}),))
async def export_cards(ctx: Ctx) -> web.StreamResponse:
    cards = [c for c in await ctx.deps.store.cards.list() if ctx.scope.card_visible(c.card.zones)]
    if (ctx.q_str("format") or "json") == "json":
        return web.Response(text=json.dumps([card_json(c) for c in cards]), content_type="application/json",
                            headers={"Content-Disposition": 'attachment; filename="cards.json"'})
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(CSV_COLUMNS)
    for sc in cards:
        c = sc.card
        out.writerow([c.id_tag, str(c.vip).lower(), str(c.authorized).lower(), c.comment,
                      "|".join(c.zones) if c.zones is not None else "",
                      c.valid_from.isoformat() if c.valid_from else "", c.valid_to.isoformat() if c.valid_to else ""])
    return web.Response(text=buffer.getvalue(), content_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="cards.csv"'})


def _import_entries(ctx: Ctx, raw: bytes) -> tuple[cards_import.Parsed, list[Card]]:
    """The file's cards, checked by the site file's rules; every problem at once, by line and field (422)."""
    try:
        parsed = cards_import.parse(raw, ctx.request.content_type)
    except cards_import.CardsFileError as exc:
        raise Problem(422, str(exc)) from None
    cards: list[Card] = []
    try:
        cards = _validated(ctx, parsed.entries)
    except Problem as exc:
        if not isinstance(exc.__cause__, SiteFileError):
            raise
        cards_import.place_issues(parsed, list(exc.__cause__.issues))
    if parsed.errors:
        errors = sorted(parsed.errors, key=cards_import.line_of)
        detail = errors[0] if len(errors) == 1 else f"{len(errors)} problems: " + "; ".join(errors[:3])
        raise Problem(422, detail, errors=errors)
    return parsed, cards


@api.route("PUT", "/cards/import", STAFF, "Import cards (replaces the whole list)", "cards",
           body={"type": "string"}, body_media="text/csv", response=ref("CardImport"),
           description="Our CSV or JSON export, or a charging station's badge export; the format is detected "
           "from the content (docs/api.md). Validated as a whole: any problem changes nothing (422, every "
           "problem by line and field in `errors`).")
async def import_cards(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    raw = await ctx.request.read()
    if len(raw) > 10_000_000:
        raise Problem(413, "cards file too large (10 MB at most)")
    parsed, cards = _import_entries(ctx, raw)
    site = await ctx.deps.store.site.load()
    if site is None:
        raise Problem(409, "there is no site yet: import a site file or run the wizard first")
    from dataclasses import replace

    await ctx.site_state.replace(replace(site, cards=tuple(cards)))
    await ctx.auth.security("cards imported", ctx.actor, count=len(cards), format=parsed.format)
    return json_response({"count": len(cards), "format": parsed.format})


@api.route("POST", "/cards/bulk", STAFF, "Change or delete many cards at once", "cards", body=ref("CardBulk"),
           response=ref("Count"))
async def bulk(ctx: Ctx) -> web.StreamResponse:
    tags = [t for t in ctx.body["id_tags"] if isinstance(t, str)]
    for tag in tags:
        sc = await ctx.deps.store.cards.get(tag)
        if sc is not None and not ctx.scope.card_editable(sc.card.zones):
            raise Problem(403, f"card {tag!r} reaches outside your zone")
    if ctx.body.get("delete"):
        count = sum([await ctx.deps.store.cards.delete(t) for t in tags])
    else:
        p = ctx.body.get("patch", {})
        zones: Any = KEEP
        if "zones" in p:
            zones = tuple(p["zones"]) if p["zones"] is not None else None
            if not ctx.scope.card_editable(zones):
                raise Problem(403, "your account is limited to a zone: cards must stay within it")
            unknown = [z for z in zones or () if all(z != x.id for x in ctx.site_state.site.zones)]
            if unknown:
                raise Problem(422, f"patch/zones: zone {unknown[0]!r} does not exist")
        if p.get("comment") is not None and len(p["comment"]) > 50:
            raise Problem(422, "patch/comment: at most 50 characters")
        patch = CardPatch(vip=p.get("vip"), authorized=p.get("authorized"), comment=p.get("comment"), zones=zones,
                          valid_from=_time_or_keep(p, "valid_from"), valid_to=_time_or_keep(p, "valid_to"))
        count = await ctx.deps.store.cards.bulk_update(tags, patch)
    await ctx.site_state.reload()
    return json_response({"count": count})


def _time_or_keep(p: dict[str, Any], key: str) -> Any:
    if key not in p:
        return KEEP
    return None if p[key] is None else parse_time(p[key], f"patch/{key}")


@api.route("GET", "/cards/{id_tag}", STAFF, "Show a card", "cards", response=ref("Card"))
async def get_card(ctx: Ctx) -> web.StreamResponse:
    return json_response(card_json(await _visible(ctx, ctx.match("id_tag"))))


@api.route("PUT", "/cards/{id_tag}", STAFF, "Change a card", "cards", body=ref("Card"), response=ref("Card"))
async def put_card(ctx: Ctx) -> web.StreamResponse:
    current = await _visible(ctx, ctx.match("id_tag"))
    if not ctx.scope.card_editable(current.card.zones):
        raise Problem(403, "this card reaches outside your zone")
    if ctx.body["id_tag"].lower() != current.card.id_tag.lower():
        raise Problem(422, "id_tag: a card's id tag cannot change")
    raw = {**ctx.body, "id_tag": current.card.id_tag}
    if current.card.registered and "registered" not in raw:
        raw["registered"] = current.card.registered
    card = await _store_card(ctx, raw)
    return json_response(card_json(await _visible(ctx, card.id_tag)))


@api.route("DELETE", "/cards/{id_tag}", STAFF, "Delete a card", "cards", status=204)
async def delete_card(ctx: Ctx) -> web.StreamResponse:
    current = await _visible(ctx, ctx.match("id_tag"))
    if not ctx.scope.card_editable(current.card.zones):
        raise Problem(403, "this card reaches outside your zone")
    await ctx.deps.store.cards.delete(current.card.id_tag)
    await ctx.site_state.reload()
    return web.Response(status=204)



