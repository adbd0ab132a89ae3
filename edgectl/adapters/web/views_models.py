"""Power-meter models: the built-in register maps and the installer's custom ones.

- `GET /meter-models` lists both (with the meters using each); `GET
  /meter-models/{id}` shows one as a document, `.../export` as the TOML file of
  docs/meters.md (a built-in's export, renamed `custom:<name>`, is a starting
  point for a custom model).
- `PUT /meter-models/{id}` imports a custom model (`custom:<name>`) from its
  TOML file, checked like a built-in (unknown keys, types, overlapping
  registers; the error names the field); it replaces one of the same id.
  `DELETE` removes a custom model no meter uses. Built-in models are read-only.
- Custom models are stored in the box settings (`meter_models`); the meter
  pollers are built when the daemon starts, so a model change takes effect
  after a restart, like a meter change (`restart_required`).
- A meter (`POST/PUT /meters`) may only name a built-in or a stored custom model.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edgectl.adapters.web.deps import MeterModels
from edgectl.adapters.web.problems import Problem
from edgectl.adapters.web.routing import ADMINS, STAFF, Api, Ctx, json_response
from edgectl.adapters.web.schemas import ref
from edgectl.adapters.web.sitestate import site_doc

api = Api()
METER_MODELS = "meter_models"  # box settings: {"models": {id: model document}}
RESTART_NOTE = ("the meter pollers are built when the daemon starts: restart it (Admin > System > Reboot, or "
                "`systemctl restart edgectl`) for a model change to take effect")
MAX_MODEL_BYTES = 200_000


def catalog(ctx: Ctx) -> MeterModels:
    if ctx.deps.meter_models is None:
        raise Problem(503, "the meter-model catalogue is not available in this daemon")
    return ctx.deps.meter_models


async def stored_models(ctx: Ctx) -> dict[str, dict[str, Any]]:
    stored = await ctx.deps.store.box_settings.get(METER_MODELS) or {}
    return dict(stored.get("models", {}))


async def known_model(ctx: Ctx, model_id: str) -> bool:
    """A meter may name this model (built-in or a stored custom one)."""
    if model_id.startswith("custom:"):
        return model_id in await stored_models(ctx)
    return ctx.deps.meter_models is None or model_id in ctx.deps.meter_models.builtin()


def _users(ctx: Ctx, model_id: str) -> list[str]:
    return [m["id"] for m in site_doc(ctx.site_state.site).get("meters", []) if m.get("model") == model_id]


def _summary(ctx: Ctx, doc: dict[str, Any], custom: bool) -> dict[str, Any]:
    return {"id": doc["id"], "name": doc.get("name", ""), "vendor": doc.get("vendor", ""),
            "description": doc.get("description", ""), "custom": custom,
            "quantities": sorted(doc.get("quantities", {})), "used_by": _users(ctx, doc["id"])}


async def _find(ctx: Ctx, model_id: str) -> tuple[dict[str, Any], bool]:
    builtin = catalog(ctx).builtin()
    if model_id in builtin:
        return builtin[model_id], False
    custom = await stored_models(ctx)
    if model_id in custom:
        return custom[model_id], True
    raise Problem(404, f"no meter model {model_id!r}")


@api.route("GET", "/meter-models", STAFF, "List power-meter models (built-in and custom)", "meters",
           response={"type": "array", "items": ref("MeterModelSummary")})
async def list_models(ctx: Ctx) -> web.StreamResponse:
    builtin = catalog(ctx).builtin()
    custom = await stored_models(ctx)
    out = [_summary(ctx, doc, False) for doc in builtin.values()]
    out += [_summary(ctx, custom[k], True) for k in sorted(custom)]
    return json_response(out)


@api.route("GET", "/meter-models/{model_id}", STAFF, "Show a power-meter model (register map)", "meters",
           response=ref("MeterModelView"))
async def get_model(ctx: Ctx) -> web.StreamResponse:
    doc, custom = await _find(ctx, ctx.match("model_id"))
    return json_response({**_summary(ctx, doc, custom), "model": doc})


@api.route("GET", "/meter-models/{model_id}/export", STAFF, "Export a power-meter model (TOML)", "meters",
           response_media="text/plain",
           description="The model file of docs/meters.md; `PUT /meter-models/{id}` reads it back.")
async def export_model(ctx: Ctx) -> web.StreamResponse:
    model_id = ctx.match("model_id")
    doc, _custom = await _find(ctx, model_id)
    name = model_id.replace(":", "-")
    return web.Response(text=catalog(ctx).dump(doc), content_type="text/plain", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.toml"'})


@api.route("PUT", "/meter-models/{model_id}", ADMINS, "Import (add or replace) a custom power-meter model", "meters",
           body={"type": "string"}, body_media="text/plain", response=ref("MeterModelChange"),
           description="Body: the model's TOML file (docs/meters.md); its `id` must be the path's "
           "`custom:<name>`. Checked like a built-in model: a problem changes nothing (422, naming the field). "
           + RESTART_NOTE + ".")
async def put_model(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    model_id = ctx.match("model_id")
    models = catalog(ctx)
    if model_id in models.builtin():
        raise Problem(409, f"id: {model_id!r} is a built-in model; import yours as custom:<name>")
    if not model_id.startswith("custom:"):
        raise Problem(422, f"id: a custom model's id is custom:<name>, not {model_id!r}")
    raw = await ctx.request.read()
    if len(raw) > MAX_MODEL_BYTES:
        raise Problem(413, f"model file too large ({MAX_MODEL_BYTES // 1000} kB at most)")
    try:
        doc = models.check(raw.decode("utf-8"), "model file")
    except UnicodeDecodeError:
        raise Problem(422, "model file: file: not UTF-8 text") from None
    except ValueError as exc:
        raise Problem(422, str(exc)) from None
    if doc["id"] != model_id:
        raise Problem(422, f"id: the file's id {doc['id']!r} is not the path's {model_id!r}")
    custom = await stored_models(ctx)
    created = model_id not in custom
    custom[model_id] = doc
    await ctx.deps.store.box_settings.put(METER_MODELS, {"models": custom})
    await ctx.auth.security("meter model imported", ctx.actor, model=model_id, created=created)
    return json_response({"model": _summary(ctx, doc, True), "created": created, "restart_required": True,
                          "detail": RESTART_NOTE})


@api.route("DELETE", "/meter-models/{model_id}", ADMINS, "Remove a custom power-meter model", "meters",
           response=ref("MeterModelChange"),
           description="Built-in models cannot be removed (409); a model a meter uses neither (422).")
async def delete_model(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    model_id = ctx.match("model_id")
    doc, custom = await _find(ctx, model_id)
    if not custom:
        raise Problem(409, f"id: {model_id!r} is a built-in model; it cannot be removed")
    users = _users(ctx, model_id)
    if users:
        raise Problem(422, f"model: meter(s) {', '.join(users)} use model {model_id!r}; change them first")
    stored = await stored_models(ctx)
    stored.pop(model_id, None)
    await ctx.deps.store.box_settings.put(METER_MODELS, {"models": stored})
    await ctx.auth.security("meter model removed", ctx.actor, model=model_id)
    return json_response({"model": _summary(ctx, doc, True), "created": False, "restart_required": True,
                          "detail": RESTART_NOTE})
