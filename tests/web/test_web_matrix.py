"""Role x endpoint matrix, generated from the route table: every endpoint,
every profile and anonymous. A refused profile gets 401 (nobody) or 403; an
allowed one is never refused for its role (it may still get 400/404/409/422)."""

from __future__ import annotations

import re

import pytest

from edgectl.adapters.web import all_routes
from edgectl.adapters.web.routing import ANON, RouteSpec

from .support import Env, basic, login

SAMPLE = {"zone_id": "floor1", "station_id": "S1", "transaction_id": "1", "id_tag": "CARD1", "username": "ws2",
          "alarm_id": "1", "meter_id": "pm1",
          "model_id": "custom:x"}
PROFILES = ["anonymous", "user", "webservices", "factory", "admin"]  # admin last: its writes succeed
ACCOUNT = {"admin": "alice", "user": "bob", "webservices": "ws", "factory": "factory"}


def _path(spec: RouteSpec) -> str:
    return re.sub(r"{(\w+)}", lambda m: SAMPLE[m.group(1)], spec.full_path)


@pytest.mark.parametrize("spec", all_routes(), ids=lambda s: f"{s.method} {s.full_path}")
async def test_every_profile_on(env: Env, spec: RouteSpec) -> None:
    for profile in PROFILES:
        headers: dict[str, str] = {}
        if profile == "factory":  # the factory account only has a browser session
            headers = await login(env.client, "factory")
        elif profile != "anonymous":
            env.client.session.cookie_jar.clear()
            headers = basic(ACCOUNT[profile])
        else:
            env.client.session.cookie_jar.clear()
        kwargs = {"json": {}} if spec.body is not None and spec.body_media == "application/json" else {}
        resp = await env.client.request(spec.method, _path(spec), headers=headers, **kwargs)
        status = resp.status
        binary = spec.response_media in ("text/event-stream", "application/zip")  # a stream, or not text
        text = "" if binary and status == 200 else await resp.text()
        resp.close()
        env.client.session.cookie_jar.clear()
        allowed = ANON in spec.roles or profile in spec.roles
        if allowed:
            assert status != 401, (profile, text)
            assert "profile may not" not in text, (profile, text)
            assert status < 500, (profile, status, text)
        elif profile == "anonymous":
            assert status == 401, (profile, status, text)
        else:
            assert status == 403, (profile, status, text)
