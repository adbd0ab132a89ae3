"""Login, logout, tokens, own password, the wizard's credential step, users.

Role changes, user creation/deletion and password changes are security
events. Changing a user's role, scope or password logs that user out
everywhere (their sessions and tokens are dropped).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from edgectl.adapters.store import AlreadyExistsError, Role, User
from edgectl.adapters.web.auth import CSRF_COOKIE, SESSION_COOKIE
from edgectl.adapters.web.passwords import PolicyError, check_login, check_password, hash_password
from edgectl.adapters.web.problems import Problem
from edgectl.adapters.web.routing import (
    ADMINS,
    FACTORY,
    LOGGED_IN,
    PUBLIC,
    WEBSERVICES,
    Api,
    Ctx,
    Param,
    json_response,
)
from edgectl.adapters.web.schemas import arr, ref

api = Api()
WIZARD_STEPS = ["credentials", "network", "stations", "meters", "zones", "assignment", "remote_supervision",
                "load_shedding", "authentication", "cards"]


def user_json(u: User) -> dict[str, Any]:
    return {
        "username": u.username, "role": u.role.value, "zone_scope": u.zone_scope, "failed_logins": u.failed_logins,
        "locked_until": u.locked_until.isoformat() if u.locked_until else None,
        "created_at": u.created_at.isoformat() if u.created_at else None,
    }


async def new_hash(ctx: Ctx, username: str, password: str) -> str:
    try:
        check_password(password, username)
    except PolicyError as exc:
        raise Problem(422, str(exc)) from None
    return await asyncio.to_thread(hash_password, password, ctx.deps.policy.scrypt)


@api.route("POST", "/auth/login", PUBLIC, "Log in (cookie session)", "auth", body=ref("Login"),
           response=ref("LoginResult"),
           description="Sets an HttpOnly, SameSite=Strict session cookie (Secure on HTTPS) and returns the CSRF "
           "token to echo in the X-CSRF-Token header of every state-changing request.")
async def login(ctx: Ctx) -> web.StreamResponse:
    user = await ctx.auth.check_credentials(ctx.body["username"], ctx.body["password"], "cookie")
    if user.role is Role.WEBSERVICES:
        await ctx.auth.security("login refused: webservices accounts use the REST API only", user.username)
        raise Problem(403, "webservices accounts use HTTP Basic or Bearer authentication, not the dashboard")
    sid, session = await ctx.auth.open_session(user)
    await ctx.auth.security("login", user.username, via="cookie", role=user.role.value)
    resp = json_response({"username": user.username, "role": user.role.value, "zone_scope": user.zone_scope,
                          "csrf_token": session.csrf_token})
    secure = ctx.request.secure
    resp.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="Strict", secure=secure, path="/")
    # Readable by our own pages' script (double-submit helper); worthless without the session cookie.
    resp.set_cookie(CSRF_COOKIE, session.csrf_token, httponly=False, samesite="Strict", secure=secure, path="/")
    return resp


@api.route("POST", "/auth/logout", LOGGED_IN, "Log out", "auth", status=204)
async def logout(ctx: Ctx) -> web.StreamResponse:
    if ctx.user.session_id is not None:
        await ctx.auth.close_session(ctx.user.session_id)
    await ctx.auth.security("logout", ctx.user.username)
    resp = web.Response(status=204)
    resp.del_cookie(SESSION_COOKIE, path="/")
    resp.del_cookie(CSRF_COOKIE, path="/")
    return resp


@api.route("GET", "/auth/me", LOGGED_IN, "Show who is logged in", "auth", response=ref("Me"))
async def me(ctx: Ctx) -> web.StreamResponse:
    p = ctx.user
    return json_response({"username": p.username, "role": p.role, "zone_scope": p.zone_scope, "via": p.via,
                          "csrf_token": p.csrf_token})


@api.route("POST", "/auth/tokens", frozenset({"admin", WEBSERVICES}), "Issue a bearer token", "auth",
           response=ref("Token"), status=201,
           description="For API clients: call with HTTP Basic, then send `Authorization: Bearer <token>`.")
async def issue_token(ctx: Ctx) -> web.StreamResponse:
    token, ttl = await ctx.auth.issue_token(ctx.user.username)
    await ctx.auth.security("token issued", ctx.user.username, via=ctx.user.via)
    return json_response({"token": token, "token_type": "Bearer", "expires_in": ttl}, 201)


@api.route("PUT", "/auth/password", LOGGED_IN, "Change one's own password", "auth", body=ref("PasswordChange"),
           status=204)
async def change_own_password(ctx: Ctx) -> web.StreamResponse:
    user = await ctx.auth.check_credentials(ctx.user.username, ctx.body["old_password"], ctx.user.via)
    password_hash = await new_hash(ctx, user.username, ctx.body["new_password"])
    await ctx.deps.store.users.update(User(user.username, password_hash, user.role, user.zone_scope))
    await ctx.auth.close_user(user.username)
    await ctx.auth.security("password changed", user.username)
    return web.Response(status=204)


# --- the first-boot wizard's credential step ------------------------------------------


@api.route("GET", "/wizard", frozenset({"admin", FACTORY}), "Show the wizard's progress", "wizard",
           response=ref("WizardState"))
async def wizard_state(ctx: Ctx) -> web.StreamResponse:
    users = await ctx.deps.store.users.list()
    admins = sum(1 for u in users if u.role is Role.ADMIN)
    plain = sum(1 for u in users if u.role is Role.USER)
    return json_response({"credentials_done": admins > 0 and plain > 0, "admins": admins, "users": plain,
                          "steps": WIZARD_STEPS})


@api.route("POST", "/wizard/credentials", frozenset({FACTORY}), "Create the first Admin and User accounts",
           "wizard", body=ref("WizardCredentials"), response=arr(ref("User")), status=201,
           description="Only the factory account, and only while no Admin account exists (409 otherwise).")
async def wizard_credentials(ctx: Ctx) -> web.StreamResponse:
    if await ctx.deps.store.users.list(Role.ADMIN):
        raise Problem(409, "an Admin account already exists; manage users from the Admin pages")
    pairs = [(Role.ADMIN, ctx.body["admin"]), (Role.USER, ctx.body["user"])]
    if pairs[0][1]["username"].lower() == pairs[1][1]["username"].lower():
        raise Problem(422, "the Admin and the User need different logins")
    hashes = []
    for role, cred in pairs:
        try:
            check_login(cred["username"])
        except PolicyError as exc:
            raise Problem(422, f"{role.value}: {exc}") from None
        hashes.append(await new_hash(ctx, cred["username"], cred["password"]))
    created = []
    for (role, cred), password_hash in zip(pairs, hashes, strict=True):
        try:
            created.append(await ctx.deps.store.users.create(User(cred["username"], password_hash, role)))
        except AlreadyExistsError:
            raise Problem(409, f"login {cred['username']!r} already exists") from None
        await ctx.auth.security("user created by the wizard", cred["username"], role=role.value, actor=ctx.actor)
    return json_response([user_json(u) for u in created], 201)


# --- users (admin) -------------------------------------------------------------------


async def _get_user(ctx: Ctx) -> User:
    user = await ctx.deps.store.users.get(ctx.match("username"))
    if user is None or user.role is Role.FACTORY:
        raise Problem(404, f"no user {ctx.match('username')!r}")
    return user


def _check_scope(ctx: Ctx, zone_scope: str | None) -> None:
    if zone_scope is not None and all(z.id != zone_scope for z in ctx.site_state.site.zones):
        raise Problem(422, f"zone_scope: zone {zone_scope!r} does not exist")


@api.route("GET", "/users", ADMINS, "List users", "users", response=arr(ref("User")),
           query=(Param("role", {"type": "string", "enum": ["admin", "user", "webservices"]}),))
async def list_users(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    role = ctx.q_str("role")
    users = await ctx.deps.store.users.list(Role(role) if role in ("admin", "user", "webservices") else None)
    return json_response([user_json(u) for u in users if u.role is not Role.FACTORY])


@api.route("POST", "/users", ADMINS, "Create a user", "users", body=ref("UserIn"), response=ref("User"), status=201)
async def create_user(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    b = ctx.body
    try:
        check_login(b["username"])
    except PolicyError as exc:
        raise Problem(422, str(exc)) from None
    _check_scope(ctx, b.get("zone_scope"))
    password_hash = await new_hash(ctx, b["username"], b["password"])
    try:
        user = await ctx.deps.store.users.create(User(b["username"], password_hash, Role(b["role"]),
                                                      b.get("zone_scope")))
    except AlreadyExistsError:
        raise Problem(409, f"login {b['username']!r} already exists") from None
    await ctx.auth.security("user created", user.username, role=user.role.value, actor=ctx.actor)
    return json_response(user_json(user), 201)


@api.route("GET", "/users/{username}", ADMINS, "Show a user", "users", response=ref("User"))
async def get_user(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    return json_response(user_json(await _get_user(ctx)))


@api.route("PATCH", "/users/{username}", ADMINS, "Change a user's role, scope or password", "users",
           body=ref("UserPatch"), response=ref("User"))
async def patch_user(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    user = await _get_user(ctx)
    b = ctx.body
    role = Role(b["role"]) if "role" in b else user.role
    scope = b.get("zone_scope", user.zone_scope)
    _check_scope(ctx, scope)
    if user.username.lower() == ctx.user.username.lower() and role is not Role.ADMIN:
        raise Problem(409, "an admin cannot take away their own admin role")
    password_hash = await new_hash(ctx, user.username, b["password"]) if "password" in b else user.password_hash
    await ctx.deps.store.users.update(User(user.username, password_hash, role, scope, 0, None))
    await ctx.auth.close_user(user.username)
    if role is not user.role:
        await ctx.auth.security("role changed", user.username, old=user.role.value, new=role.value, actor=ctx.actor)
    if scope != user.zone_scope:
        await ctx.auth.security("zone scope changed", user.username, old=user.zone_scope, new=scope, actor=ctx.actor)
    if "password" in b:
        await ctx.auth.security("password reset", user.username, actor=ctx.actor)
    updated = await ctx.deps.store.users.get(user.username)
    assert updated is not None
    return json_response(user_json(updated))


@api.route("DELETE", "/users/{username}", ADMINS, "Delete a user", "users", status=204)
async def delete_user(ctx: Ctx) -> web.StreamResponse:
    ctx.require_whole_site()
    user = await _get_user(ctx)
    if user.username.lower() == ctx.user.username.lower():
        raise Problem(409, "an admin cannot delete their own account")
    await ctx.deps.store.users.delete(user.username)
    await ctx.auth.close_user(user.username)
    await ctx.auth.security("user deleted", user.username, role=user.role.value, actor=ctx.actor)
    return web.Response(status=204)


