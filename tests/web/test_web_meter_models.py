"""Power-meter models over the API: built-ins listed and exported, custom ones
imported (checked, field named), used by a meter, refused while in use."""

from __future__ import annotations

from edgectl.adapters.modbus.catalog import custom_models
from edgectl.adapters.store import EventQuery, EventType

from .support import Env, basic

ADMIN = basic("alice")
MODEL = "custom:lab-meter"


async def _import(env: Env, model_id: str, text: str, who: dict[str, str] = ADMIN) -> tuple[int, dict]:
    resp = await env.client.put(f"/api/v1/meter-models/{model_id}", data=text.encode(),
                                headers={**who, "Content-Type": "text/plain"})
    body = await resp.json()
    return resp.status, body


async def test_builtins_are_listed_and_export_as_a_starting_point(env: Env) -> None:
    resp = await env.client.get("/api/v1/meter-models", headers=basic("bob"))
    assert resp.status == 200
    listed = {m["id"]: m for m in await resp.json()}
    assert {"pm5320", "iem3x5x", "powertag", "nsx", "nsx_legacy", "mtz"} <= set(listed)
    assert listed["pm5320"]["custom"] is False and {"i1", "i2", "i3"} <= set(listed["pm5320"]["quantities"])
    resp = await env.client.get("/api/v1/meter-models/pm5320", headers=ADMIN)
    assert resp.status == 200 and (await resp.json())["model"]["quantities"]["i1"]["address"] == 2999
    resp = await env.client.get("/api/v1/meter-models/pm5320/export", headers=ADMIN)
    assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    text = await resp.text()
    assert 'id = "pm5320"' in text
    # The built-in, renamed, is a custom model.
    status, body = await _import(env, MODEL, text.replace('id = "pm5320"', f'id = "{MODEL}"'))
    assert status == 200, body
    assert body["created"] is True and body["restart_required"] is True and body["model"]["custom"] is True
    assert (await env.client.get("/api/v1/meter-models/nope", headers=ADMIN)).status == 404


async def test_custom_model_lifecycle(env: Env) -> None:
    text = (await (await env.client.get("/api/v1/meter-models/iem3x5x/export", headers=ADMIN)).text())
    custom = text.replace('id = "iem3x5x"', f'id = "{MODEL}"')
    # Refusals, each a problem naming the field; nothing stored.
    status, body = await _import(env, MODEL, custom.replace("[quantities.i1]", "[quantities.i9]"))
    assert status == 422 and "quantities" in body["detail"] and body["status"] == 422
    status, body = await _import(env, MODEL, "id = ")
    assert status == 422 and "TOML" in body["detail"]
    status, body = await _import(env, "custom:other", custom)
    assert status == 422 and body["detail"].startswith("id:")
    status, body = await _import(env, "pm5320", text)
    assert status == 409
    status, body = await _import(env, MODEL, custom, who=basic("bob"))
    assert status == 403
    assert await env.store.box_settings.get("meter_models") is None
    # A meter cannot name a custom model that does not exist.
    meter = {"id": "pm9", "model": MODEL, "transport": "tcp", "host": "10.0.0.9", "port": 502, "unit_id": 1}
    resp = await env.client.post("/api/v1/meters", headers=ADMIN, json=meter)
    assert resp.status == 422 and (await resp.json())["detail"].startswith("model:")
    # Imported: listed, usable by a meter, loadable by the pollers at start.
    status, body = await _import(env, MODEL, custom)
    assert status == 200 and body["created"] is True
    status, body = await _import(env, MODEL, custom)
    assert status == 200 and body["created"] is False  # replaced
    assert (await env.client.post("/api/v1/meters", headers=ADMIN, json=meter)).status == 201
    listed = {m["id"]: m for m in await (await env.client.get("/api/v1/meter-models", headers=ADMIN)).json()}
    assert listed[MODEL]["used_by"] == ["pm9"]
    stored = await env.store.box_settings.get("meter_models")
    assert stored is not None and MODEL in custom_models(stored["models"])
    # In use: not removed. Free again: removed.
    resp = await env.client.delete(f"/api/v1/meter-models/{MODEL}", headers=ADMIN)
    assert resp.status == 422 and "pm9" in (await resp.json())["detail"]
    assert (await env.client.delete("/api/v1/meters/pm9", headers=ADMIN)).status == 200
    assert (await env.client.delete("/api/v1/meter-models/pm5320", headers=ADMIN)).status == 409
    assert (await env.client.delete(f"/api/v1/meter-models/{MODEL}", headers=ADMIN)).status == 200
    assert (await env.client.delete(f"/api/v1/meter-models/{MODEL}", headers=ADMIN)).status == 404
    events = await env.store.events.query(EventQuery(types=(EventType.SECURITY,)))
    assert {"meter model imported", "meter model removed"} <= {e.message for e in events}
