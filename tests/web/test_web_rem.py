"""Remote energy management: first value per period, heartbeat loss -> local control, time sync."""

from __future__ import annotations

from edgectl.adapters.web.rem import REM

from .support import Env, basic

WS = basic("ws")


async def _put(env: Env, amps: float | None, who: str = "ws", zone: str = "floor1") -> tuple[int, dict]:
    resp = await env.client.put(f"/api/v1/zones/{zone}/setpoint", json={"amps": amps}, headers=basic(who))
    return resp.status, await resp.json()


async def test_only_the_first_value_of_a_period_counts(env: Env) -> None:
    status, body = await _put(env, 40)
    assert status == 200 and body["accepted"] and env.live.setpoints["floor1"] == 40
    env.clock.advance(30)
    status, body = await _put(env, 20)
    assert status == 429 and 29 <= body["retry_after_s"] <= 31
    assert env.live.setpoints["floor1"] == 40  # the later value changed nothing
    status, _ = await _put(env, 25, zone="floor2")  # periods are per zone
    assert status == 200
    env.clock.advance(31)
    status, _ = await _put(env, 20)
    assert status == 200 and env.live.setpoints["floor1"] == 20


async def test_only_the_designated_login(env: Env) -> None:
    status, body = await _put(env, 40, who="ws2")
    assert status == 403 and "designated" in body["detail"]
    status, _ = await _put(env, 40, who="alice")
    assert status == 403
    status, _ = await _put(env, 40, zone="nowhere")
    assert status == 404


async def test_heartbeat_loss_returns_zone_to_local_control(env: Env) -> None:
    rem = env.client.app[REM]
    status, _ = await _put(env, 40)
    assert status == 200
    site_rem = (await env.store.site.load()).settings.remote_energy  # type: ignore[union-attr]
    env.clock.advance(500)
    assert (await env.client.post("/api/v1/rem/heartbeat", headers=WS)).status == 200
    env.clock.advance(500)
    assert await rem.check(site_rem) == []  # 500 s since the heartbeat: still remote
    assert env.live.setpoints["floor1"] == 40
    env.clock.advance(101)
    assert await rem.check(site_rem) == ["floor1"]
    assert env.live.setpoints["floor1"] is None  # back to local control
    events = await env.store.events.query()
    assert any("heartbeat lost" in e.message and e.zone == "floor1" for e in events)


async def test_time_sync_records_offset_without_touching_the_clock(env: Env) -> None:
    now = env.clock.now()
    later = now.replace(second=(now.second + 5) % 60)
    resp = await env.client.post("/api/v1/rem/time", json={"time": later.isoformat()}, headers=WS)
    assert resp.status == 200
    body = await resp.json()
    assert body["applied"] is False and abs(body["offset_s"] - 5) < 1e-6
    assert env.clock.now() == now
