"""The SSE live feed: the status on connect, then after each cycle; scoped."""

from __future__ import annotations

import asyncio
import json

from .support import Env, basic


async def _next_event(resp: object) -> dict:
    data = None
    while True:
        line = (await asyncio.wait_for(resp.content.readline(), 5)).decode()  # type: ignore[attr-defined]
        if line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "\n" and data is not None:
            return data


async def test_feed_pushes_after_each_cycle(env: Env) -> None:
    resp = await env.client.get("/api/v1/live", headers=basic("carol"))
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    first = await _next_event(resp)
    assert [z["id"] for z in first["zones"]] == ["floor1"]  # carol's domain only
    # Several cycles while the client is not reading collapse into one update.
    for _ in range(5):
        env.live.publish()
    second = await _next_event(resp)
    assert second["connectors"][0]["station"] == "S1"
    resp.close()
    await asyncio.sleep(0.05)
