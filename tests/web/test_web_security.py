"""CSRF, cookies, lock-out, inactivity timeout, password policy, wizard, security events."""

from __future__ import annotations

from edgectl.adapters.store import EventQuery, EventType
from edgectl.adapters.web.passwords import PolicyError, check_login, check_password, hash_password, verify_password

from .support import PASSWORD, POLICY, Env, basic, login

CARD = {"id_tag": "CSRF1"}


async def _security_messages(env: Env) -> list[str]:
    return [e.message for e in await env.store.events.query(EventQuery(types=(EventType.SECURITY,)))]


async def test_csrf_refused_without_or_with_wrong_token(env: Env) -> None:
    csrf = await login(env.client, "bob")
    resp = await env.client.post("/api/v1/cards", json=CARD)
    assert resp.status == 403 and "CSRF" in (await resp.json())["detail"]
    assert resp.content_type == "application/problem+json"
    resp = await env.client.post("/api/v1/cards", json=CARD, headers={"X-CSRF-Token": "forged"})
    assert resp.status == 403
    resp = await env.client.post("/api/v1/cards", json=CARD, headers={**csrf, "Origin": "http://evil.example"})
    assert resp.status == 403
    assert await env.store.cards.get("CSRF1") is None
    resp = await env.client.post("/api/v1/cards", json=CARD, headers=csrf)
    assert resp.status == 201
    # Reads need no token; basic-auth API calls are exempt (no ambient credentials).
    assert (await env.client.get("/api/v1/cards")).status == 200
    env.client.session.cookie_jar.clear()
    resp = await env.client.post("/api/v1/cards", json={"id_tag": "CSRF2"}, headers=basic("ws"))
    assert resp.status == 201


async def test_session_cookie_flags(env: Env) -> None:
    resp = await env.client.post("/api/v1/auth/login", json={"username": "bob", "password": PASSWORD})
    cookie = resp.headers.getall("Set-Cookie")
    session = next(c for c in cookie if c.startswith("edgectl_session="))
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Path=/" in session
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["X-Frame-Options"] == "DENY"


async def test_lockout_after_six_failures_then_released(env: Env) -> None:
    for i in range(POLICY.max_failures - 1):
        resp = await env.client.post("/api/v1/auth/login", json={"username": "bob", "password": "Wrong!pass1"})
        assert resp.status == 401, i
    resp = await env.client.post("/api/v1/auth/login", json={"username": "bob", "password": "Wrong!pass1"})
    assert resp.status == 423 and "Retry-After" in resp.headers
    # Locked: even the right password (and basic auth) is refused.
    resp = await env.client.post("/api/v1/auth/login", json={"username": "bob", "password": PASSWORD})
    assert resp.status == 423
    assert (await env.client.get("/api/v1/site", headers=basic("bob"))).status == 423
    env.clock.advance(POLICY.lockout_s + 1)
    await login(env.client, "bob")
    user = await env.store.users.get("bob")
    assert user is not None and user.failed_logins == 0 and user.locked_until is None
    messages = await _security_messages(env)
    assert "account locked" in messages and "login failed: wrong password" in messages and "login" in messages


async def test_inactivity_timeout(env: Env) -> None:
    await login(env.client, "bob")
    env.clock.advance(POLICY.inactivity_s - 1)
    assert (await env.client.get("/api/v1/site")).status == 200  # activity resets the timer
    env.clock.advance(POLICY.inactivity_s - 1)
    assert (await env.client.get("/api/v1/site")).status == 200
    env.clock.advance(POLICY.inactivity_s + 1)
    assert (await env.client.get("/api/v1/site")).status == 401


async def test_logout_ends_session(env: Env) -> None:
    csrf = await login(env.client, "bob")
    assert (await env.client.post("/api/v1/auth/logout", headers=csrf)).status == 204
    assert (await env.client.get("/api/v1/site")).status == 401


async def test_bearer_token(env: Env) -> None:
    resp = await env.client.post("/api/v1/auth/tokens", headers=basic("ws"))
    assert resp.status == 201
    token = (await resp.json())["token"]
    resp = await env.client.get("/api/v1/zones", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200
    env.clock.advance(POLICY.token_ttl_s + 1)
    resp = await env.client.get("/api/v1/zones", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 401


async def test_webservices_cannot_use_the_dashboard(env: Env) -> None:
    resp = await env.client.post("/api/v1/auth/login", json={"username": "ws", "password": PASSWORD})
    assert resp.status == 403


def test_password_policy() -> None:
    for weak in ["Sh0rt!", "alllower1!", "ALLUPPER1!", "NoDigits!!", "NoSpecial12"]:
        try:
            check_password(weak)
        except PolicyError:
            continue
        raise AssertionError(weak)
    check_password("G00d!enough")
    try:
        check_login("Admin")
        raise AssertionError("admin accepted")
    except PolicyError:
        pass
    h = hash_password("G00d!enough", POLICY.scrypt)
    assert h.startswith("scrypt$256$8$1$") and verify_password("G00d!enough", h) and not verify_password("x", h)
    assert hash_password("G00d!enough", POLICY.scrypt) != h  # per-user salt


async def test_admin_user_management_and_policy(env: Env) -> None:
    csrf = await login(env.client, "alice")
    resp = await env.client.post("/api/v1/users", json={"username": "dave", "password": "weak", "role": "user"},
                                 headers=csrf)
    assert resp.status == 422 and "password needs" in (await resp.json())["detail"]
    resp = await env.client.post("/api/v1/users", json={"username": "admin", "password": PASSWORD, "role": "user"},
                                 headers=csrf)
    assert resp.status == 422
    resp = await env.client.post("/api/v1/users", json={"username": "dave", "password": PASSWORD, "role": "user"},
                                 headers=csrf)
    assert resp.status == 201
    resp = await env.client.patch("/api/v1/users/dave", json={"role": "admin"}, headers=csrf)
    assert resp.status == 200 and (await resp.json())["role"] == "admin"
    assert "role changed" in await _security_messages(env)


async def test_factory_wizard_creates_first_accounts(env: Env) -> None:
    for name in ("alice",):  # a factory-state box: no admin yet
        await env.store.users.delete(name)
    csrf = await login(env.client, "factory")
    assert (await env.client.get("/api/v1/site")).status == 403  # the factory account runs the wizard only
    body = {"admin": {"username": "installer", "password": PASSWORD},
            "user": {"username": "operator", "password": "bad"}}
    resp = await env.client.post("/api/v1/wizard/credentials", json=body, headers=csrf)
    assert resp.status == 422
    body["user"]["password"] = PASSWORD
    resp = await env.client.post("/api/v1/wizard/credentials", json=body, headers=csrf)
    assert resp.status == 201, await resp.text()
    resp = await env.client.post("/api/v1/wizard/credentials", json=body, headers=csrf)
    assert resp.status == 409
    env.client.session.cookie_jar.clear()
    assert (await env.client.get("/api/v1/users", headers=basic("installer"))).status == 200


async def test_problem_json_for_unknown_and_bad_json(env: Env) -> None:
    resp = await env.client.get("/api/v1/nope")
    assert resp.status == 404 and resp.content_type == "application/problem+json"
    resp = await env.client.post("/api/v1/cards", data=b"{not json", headers={**basic("ws"),
                                                                               "Content-Type": "application/json"})
    assert resp.status == 400 and "not valid JSON" in (await resp.json())["detail"]
