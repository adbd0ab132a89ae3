"""Alarms API: active list with filters, history, clear with role and domain checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from edgectl.adapters.store import Alarm, EventQuery, EventType, Store

from .support import Env, basic, login


async def _raise(store: Store) -> dict[str, int]:
    ids = {}
    for kind, source, connector, code in (("station_offline", "S1", 0, None),
                                          ("connector_faulted", "S2", 1, "GroundFailure"),
                                          ("meter_unreachable", "pm9", 0, None)):
        alarm, _ = await store.alarms.raise_alarm(Alarm(kind, source, connector, code=code, message=f"{kind} {source}"))
        assert alarm.id is not None
        ids[source] = alarm.id
    return ids


async def test_active_list_and_filters(env: Env) -> None:
    ids = await _raise(env.store)
    resp = await env.client.get("/api/v1/alarms", headers=basic("ws"))
    assert resp.status == 200
    body = await resp.json()
    assert [a["source"] for a in body] == ["S1", "S2", "pm9"]
    assert body[1] == {**body[1], "kind": "connector_faulted", "connector": 1, "code": "GroundFailure", "active": True,
                       "cleared_at": None, "cleared_by": None}
    by_kind = await (await env.client.get("/api/v1/alarms?kind=station_offline", headers=basic("bob"))).json()
    assert [a["id"] for a in by_kind] == [ids["S1"]]
    by_source = await (await env.client.get("/api/v1/alarms?source=S2", headers=basic("bob"))).json()
    assert [a["id"] for a in by_source] == [ids["S2"]]
    by_zone = await (await env.client.get("/api/v1/alarms?zone=floor2", headers=basic("bob"))).json()
    assert [a["source"] for a in by_zone] == ["S2"]
    resp = await env.client.get("/api/v1/alarms?kind=nonsense", headers=basic("bob"))
    assert resp.status == 400 and resp.content_type == "application/problem+json"
    assert (await env.client.get("/api/v1/alarms?zone=nowhere", headers=basic("bob"))).status == 404
    assert (await env.client.get("/api/v1/alarms")).status == 401


async def test_clear_by_an_operator_is_recorded_and_logged(env: Env) -> None:
    ids = await _raise(env.store)
    csrf = await login(env.client, "bob")
    resp = await env.client.post(f"/api/v1/alarms/{ids['S2']}/clear")
    assert resp.status == 403  # CSRF
    resp = await env.client.post(f"/api/v1/alarms/{ids['S2']}/clear", headers=csrf)
    assert resp.status == 200, await resp.text()
    cleared = await resp.json()
    assert cleared["active"] is False and cleared["cleared_by"] == "bob" and cleared["cleared_at"]
    resp = await env.client.post(f"/api/v1/alarms/{ids['S2']}/clear", headers=csrf)
    assert resp.status == 409 and "already cleared" in (await resp.json())["detail"]
    assert (await env.client.post("/api/v1/alarms/99999/clear", headers=csrf)).status == 404
    active = await (await env.client.get("/api/v1/alarms")).json()
    assert ids["S2"] not in [a["id"] for a in active]
    history = await (await env.client.get("/api/v1/alarms/history?active=false")).json()
    assert [a["id"] for a in history] == [ids["S2"]]
    everything = await (await env.client.get("/api/v1/alarms/history")).json()
    assert [a["id"] for a in everything] == sorted(ids.values(), reverse=True)
    page = await (await env.client.get(f"/api/v1/alarms/history?limit=1&before_id={ids['pm9']}")).json()
    assert [a["id"] for a in page] == [ids["S2"]]
    one = await (await env.client.get(f"/api/v1/alarms/{ids['S2']}")).json()
    assert one["cleared_by"] == "bob"
    events = await env.store.events.query(EventQuery(types=(EventType.SYSTEM,)))
    assert any(e.message.startswith("alarm cleared by bob") for e in events)


async def test_webservices_reads_but_does_not_clear(env: Env) -> None:
    ids = await _raise(env.store)
    resp = await env.client.post(f"/api/v1/alarms/{ids['S1']}/clear", headers=basic("ws"))
    assert resp.status == 403
    assert (await env.client.get(f"/api/v1/alarms/{ids['S1']}", headers=basic("ws"))).status == 200


async def test_operator_domain(env: Env) -> None:
    ids = await _raise(env.store)
    carol = basic("carol")  # floor1: station S1 only; no meter in floor1
    body = await (await env.client.get("/api/v1/alarms", headers=carol)).json()
    assert [a["source"] for a in body] == ["S1"]
    history = await (await env.client.get("/api/v1/alarms/history", headers=carol)).json()
    assert [a["source"] for a in history] == ["S1"]
    assert (await env.client.get(f"/api/v1/alarms/{ids['S2']}", headers=carol)).status == 404
    assert (await env.client.post(f"/api/v1/alarms/{ids['S2']}/clear", headers=carol)).status == 404
    assert (await env.client.get("/api/v1/alarms?zone=floor2", headers=carol)).status == 404
    resp = await env.client.post(f"/api/v1/alarms/{ids['S1']}/clear", headers=carol)
    assert resp.status == 200 and (await resp.json())["cleared_by"] == "carol"


@dataclass
class FakeMonitor:
    store: Store
    cleared: list[tuple[int, str]] = field(default_factory=list)

    async def clear(self, alarm_id: int, actor: str) -> Alarm | None:
        self.cleared.append((alarm_id, actor))
        return await self.store.alarms.clear_id(alarm_id, by=actor)


async def test_clear_goes_through_the_running_monitor(env: Env) -> None:
    ids = await _raise(env.store)
    monitor = FakeMonitor(env.store)
    env.deps.alarms = monitor
    resp = await env.client.post(f"/api/v1/alarms/{ids['S1']}/clear", headers=basic("alice"))
    assert resp.status == 200
    assert monitor.cleared == [(ids["S1"], "alice")]
