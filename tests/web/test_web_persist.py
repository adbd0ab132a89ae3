"""Web sessions and API tokens survive a restart (stored as hashes only), and
are revoked by a password, role or scope change and by deleting the user."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from edgectl.adapters.store import Role, User, open_store, secret_hash
from edgectl.adapters.web import create_app
from edgectl.adapters.web.auth import SESSION_COOKIE
from edgectl.adapters.web.passwords import FAST_TEST_PARAMS, hash_password

from .support import PASSWORD, POLICY, Env, basic, login

# tests/e2e/harness.py's DaemonProcess (`edgectl run` as a subprocess), imported by path:
# tests/ is not a package, so `tests.e2e` is not importable from here.
_spec = importlib.util.spec_from_file_location("e2e_harness", Path(__file__).parents[1] / "e2e" / "harness.py")
assert _spec is not None and _spec.loader is not None
_harness = sys.modules.setdefault("e2e_harness", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_harness)
DaemonProcess, free_port = _harness.DaemonProcess, _harness.free_port


@asynccontextmanager
async def _second_app(env: Env) -> AsyncIterator[TestClient]:
    """A fresh app (a fresh Authenticator: nothing in memory) on the same store."""
    client = TestClient(TestServer(create_app(env.deps), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def _token(env: Env, user: str) -> str:
    resp = await env.client.post("/api/v1/auth/tokens", headers=basic(user))
    assert resp.status == 201
    return str((await resp.json())["token"])


def _sid(env: Env) -> str:
    cookie = env.client.session.cookie_jar.filter_cookies(env.client.make_url("/"))[SESSION_COOKIE]
    return cookie.value


async def test_session_and_token_survive_a_new_app_and_are_stored_hashed(env: Env) -> None:
    csrf = await login(env.client, "bob")
    sid = _sid(env)
    token = await _token(env, "ws")
    async with _second_app(env) as other:
        resp = await other.get("/api/v1/auth/me", cookies={SESSION_COOKIE: sid})
        assert resp.status == 200 and (await resp.json())["username"] == "bob"
        # The CSRF token of the session is the same after the restart.
        resp = await other.post("/api/v1/cards", json={"id_tag": "AFTER"}, cookies={SESSION_COOKIE: sid},
                                headers=csrf)
        assert resp.status == 201, await resp.text()
        resp = await other.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 200 and (await resp.json())["username"] == "ws"
    assert await env.store.web_auth.get_session(secret_hash(sid)) is not None
    raw = env.store.path.read_bytes() + (env.store.path.with_name(env.store.path.name + "-wal").read_bytes()
                                         if env.store.path.with_name(env.store.path.name + "-wal").exists() else b"")
    assert sid.encode() not in raw and token.encode() not in raw


async def test_expiry_across_a_restart(env: Env) -> None:
    await login(env.client, "bob")
    sid = _sid(env)
    token = await _token(env, "ws")
    env.clock.advance(POLICY.inactivity_s + 1)
    async with _second_app(env) as other:
        assert (await other.get("/api/v1/auth/me", cookies={SESSION_COOKIE: sid})).status == 401
        assert (await other.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).status == 200
        env.clock.advance(POLICY.token_ttl_s)
        assert (await other.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).status == 401
    assert await env.store.web_auth.get_session(secret_hash(sid)) is None
    assert await env.store.web_auth.get_token(secret_hash(token)) is None


async def test_revoked_by_password_role_change_and_deletion(env: Env) -> None:
    await login(env.client, "bob")
    bob_sid = _sid(env)
    ws_token = await _token(env, "ws2")
    admin = basic("alice")
    assert (await env.client.patch("/api/v1/users/bob", headers=admin, json={"password": "N3w!password"})).status == 200
    assert (await env.client.patch("/api/v1/users/ws2", headers=admin, json={"role": "user"})).status == 200
    async with _second_app(env) as other:
        assert (await other.get("/api/v1/auth/me", cookies={SESSION_COOKIE: bob_sid})).status == 401
        assert (await other.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {ws_token}"})).status == 401
    # Deletion, seen by the running app and by a restarted one.
    env.client.session.cookie_jar.clear()
    await login(env.client, "carol")
    carol_sid = _sid(env)
    env.client.session.cookie_jar.clear()
    assert (await env.client.delete("/api/v1/users/carol", headers=admin)).status == 204
    assert await env.store.web_auth.get_session(secret_hash(carol_sid)) is None
    # Own password change: every session of that user ends.
    csrf = await login(env.client, "alice")
    resp = await env.client.put("/api/v1/auth/password", headers=csrf,
                                json={"old_password": PASSWORD, "new_password": "An0ther!pass"})
    assert resp.status == 204
    assert (await env.client.get("/api/v1/auth/me")).status == 401
    assert await env.store.web_auth.count() == (0, 0)


async def test_still_logged_in_after_a_daemon_restart(tmp_path: Path) -> None:
    """The real daemon as a subprocess: log in, restart it, still logged in (cookie and token)."""
    data, http_port = tmp_path / "data", free_port()
    async with open_store(data / "edgectl.db") as store:
        for name, role in (("alice", Role.ADMIN), ("ws", Role.WEBSERVICES)):
            await store.users.create(User(name, hash_password(PASSWORD, FAST_TEST_PARAMS), role))
    marker = tmp_path / "rebooted"
    config = tmp_path / "edgectl.toml"
    config.write_text(
        f'data_dir = "{data}"\n'
        f'[ocpp]\nhost = "127.0.0.1"\nport = {free_port()}\n'
        f'[files]\nhost = "127.0.0.1"\n'
        f'[gpio]\npin_factory = "mock"\n'
        f'[web]\nhost = "127.0.0.1"\nhttp_port = {http_port}\nhttps_port = {free_port()}\n'
        f'[log]\nlevel = "warning"\n'
        f'[system]\nreboot_command = ["{sys.executable}", "-c", "open({str(marker)!r}, \'w\')"]\n'
        f'network_dir = "net"\n',
        encoding="utf-8")
    base = f"http://127.0.0.1:{http_port}/api/v1"
    daemon = DaemonProcess(config)

    async def up(session: aiohttp.ClientSession) -> None:
        for _ in range(300):
            try:
                async with session.get(f"{base}/openapi.json") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError("the daemon did not come up")

    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # an IP host
            await daemon.start()
            await up(session)
            async with session.post(f"{base}/auth/login", json={"username": "alice", "password": PASSWORD}) as resp:
                assert resp.status == 200
                csrf = {"X-CSRF-Token": (await resp.json())["csrf_token"]}
            async with session.post(f"{base}/auth/tokens", headers=basic("ws")) as resp:
                token = (await resp.json())["token"]
            async with session.put(f"{base}/system/network", headers=csrf, json={"hostname": "box-7"}) as resp:
                assert resp.status == 200
                assert (await resp.json())["file"] == str(data / "net" / "10-edgectl-eth0.network")
            await daemon.terminate()
            await daemon.start()
            await up(session)
            async with session.get(f"{base}/auth/me") as resp:  # the cookie jar still has the session
                assert resp.status == 200 and (await resp.json())["username"] == "alice"
            async with session.get(f"{base}/auth/me", headers={"Authorization": f"Bearer {token}"}) as resp:
                assert resp.status == 200
            async with session.post(f"{base}/system/reboot", headers=csrf) as resp:  # same CSRF token
                assert resp.status == 202, await resp.text()
            assert marker.exists()
            async with session.get(f"{base}/system/network") as resp:
                assert (await resp.json())["hostname"] == "box-7"
    finally:
        await daemon.terminate()
