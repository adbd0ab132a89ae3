"""Operator domain: carol is limited to floor1 (station S1, cards usable there)."""

from __future__ import annotations

from .support import Env, basic

CAROL = basic("carol")


async def _get(env: Env, path: str) -> tuple[int, object]:
    resp = await env.client.get(path, headers=CAROL)
    return resp.status, await resp.json()


async def test_sees_only_its_subtree(env: Env) -> None:
    _, zones = await _get(env, "/api/v1/zones")
    assert [z["id"] for z in zones] == ["floor1"]  # type: ignore[index]
    _, stations = await _get(env, "/api/v1/stations")
    assert [s["station"]["id"] for s in stations] == ["S1"]  # type: ignore[index]
    assert (await _get(env, "/api/v1/stations/S2"))[0] == 404
    assert (await _get(env, "/api/v1/zones/floor2"))[0] == 404
    _, status = await _get(env, "/api/v1/status")
    assert [z["id"] for z in status["zones"]] == ["floor1"]  # type: ignore[index]
    assert [c["station"] for c in status["connectors"]] == ["S1"]  # type: ignore[index]
    _, cards = await _get(env, "/api/v1/cards")
    assert sorted(c["id_tag"] for c in cards) == ["ALLZ", "CARD1"]  # type: ignore[union-attr]


async def test_acts_only_in_its_subtree(env: Env) -> None:
    resp = await env.client.post("/api/v1/stations/S2/commands", json={"command": "soft_reset"}, headers=CAROL)
    assert resp.status == 404
    resp = await env.client.post("/api/v1/stations/S1/commands", json={"command": "soft_reset"}, headers=CAROL)
    assert resp.status == 200
    assert env.commands.calls == [("S1", "soft_reset", {}, "carol")]
    resp = await env.client.put("/api/v1/cards/ALLZ", json={"id_tag": "ALLZ", "vip": True}, headers=CAROL)
    assert resp.status == 403  # a card for every zone reaches outside floor1
    resp = await env.client.post("/api/v1/cards", json={"id_tag": "NEWC"}, headers=CAROL)
    assert resp.status == 403
    resp = await env.client.post("/api/v1/cards", json={"id_tag": "NEWC", "zones": ["floor1"]}, headers=CAROL)
    assert resp.status == 201
    resp = await env.client.delete("/api/v1/cards/CARD2", headers=CAROL)
    assert resp.status == 404
