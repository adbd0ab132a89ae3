from __future__ import annotations

from .support import Env, basic, login


async def test_openapi_and_docs(env: Env) -> None:
    resp = await env.client.get("/api/v1/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/zones/{zone_id}/setpoint" in doc["paths"]
    resp = await env.client.get("/api/docs")
    assert resp.status == 200 and "<script>" in await resp.text()
    assert "cdn" not in (await resp.text()).lower()


async def test_admin_reads_everything(env: Env) -> None:
    h = basic("alice")
    for path in ["/api/v1/site", "/api/v1/zones", "/api/v1/stations", "/api/v1/cards", "/api/v1/status",
                 "/api/v1/meters", "/api/v1/events", "/api/v1/users", "/api/v1/settings", "/api/v1/tou",
                 "/api/v1/digital-inputs", "/api/v1/sessions", "/api/v1/rem", "/api/v1/stations/S1",
                 "/api/v1/stations/detected", "/api/v1/station-events", "/api/v1/site/export",
                 "/api/v1/sessions/export", "/api/v1/cards/export?format=csv"]:
        resp = await env.client.get(path, headers=h)
        assert resp.status == 200, (path, await resp.text())


async def test_cookie_login_and_write(env: Env) -> None:
    csrf = await login(env.client, "bob")
    resp = await env.client.post("/api/v1/cards", json={"id_tag": "NEW1", "comment": "hi"}, headers=csrf)
    assert resp.status == 201, await resp.text()
    assert env.site_changes and env.site_changes[-1].card("NEW1") is not None
