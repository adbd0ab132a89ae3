"""The route table: every endpoint with its roles and schemas, in one place.

One `RouteSpec` per endpoint drives three things, so they cannot disagree:
the aiohttp routes (each handler wrapped by `guard`), the OpenAPI document
(`openapi.py`), and the role x endpoint matrix test.

`guard` does, in order: authenticate (cookie, bearer or basic) -> 401 when
nobody is logged in; role check -> 403; CSRF check on state-changing cookie
requests -> 403; JSON body parse + JSON-schema validation -> 400; then the
handler with a `Ctx`.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jsonschema
from aiohttp import web

from edgectl.adapters.web.auth import CSRF_HEADER, SESSION_COOKIE, Authenticator, Principal
from edgectl.adapters.web.deps import DEPS, WebDeps
from edgectl.adapters.web.problems import Problem
from edgectl.adapters.web.sitestate import Scope, SiteState

ANON = "anonymous"
ADMIN, USER, WEBSERVICES, FACTORY = "admin", "user", "webservices", "factory"
PUBLIC = frozenset({ANON, ADMIN, USER, WEBSERVICES, FACTORY})
LOGGED_IN = frozenset({ADMIN, USER, WEBSERVICES, FACTORY})
STAFF = frozenset({ADMIN, USER, WEBSERVICES})  # dashboard readers, remote actions, cards
ADMINS = frozenset({ADMIN})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

AUTH = web.AppKey("edgectl_auth", Authenticator)
SITE = web.AppKey("edgectl_site", SiteState)

Handler = Callable[["Ctx"], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True, slots=True)
class RouteSpec:
    method: str
    path: str  # below /api/v1
    handler: Handler
    roles: frozenset[str]
    summary: str
    tag: str
    body: dict[str, Any] | None = None  # JSON schema of a JSON body
    body_media: str = "application/json"  # or text/plain, text/csv ...
    response: dict[str, Any] | None = None  # JSON schema of the success body (JSON)
    response_media: str = "application/json"
    status: int = 200
    query: tuple[Param, ...] = ()
    description: str = ""
    prefix: str = "/api/v1"

    @property
    def full_path(self) -> str:
        return self.prefix + self.path

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


@dataclass
class Ctx:
    request: web.Request
    principal: Principal | None
    deps: WebDeps
    auth: Authenticator
    site_state: SiteState
    body: Any = None

    @property
    def user(self) -> Principal:
        assert self.principal is not None  # guarded routes always have one
        return self.principal

    @property
    def actor(self) -> str:
        return self.principal.username if self.principal else "anonymous"

    @property
    def scope(self) -> Scope:
        return Scope.of(self.site_state.site, self.principal.zone_scope if self.principal else None)

    def require_whole_site(self) -> None:
        if not self.scope.whole_site:
            raise Problem(403, "this action concerns the whole site; your account is limited to a zone")

    def match(self, name: str) -> str:
        return self.request.match_info[name]

    def q_str(self, name: str) -> str | None:
        value = self.request.query.get(name)
        return value if value not in (None, "") else None

    def q_int(self, name: str, default: int | None = None, lo: int | None = None, hi: int | None = None) -> int | None:
        raw = self.q_str(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise Problem(400, f"query parameter {name!r} must be an integer") from None
        lo = -(2**53) if lo is None else lo  # SQLite and JSON stay exact within this range
        hi = 2**53 if hi is None else hi
        if value < lo or value > hi:
            raise Problem(400, f"query parameter {name!r} must be between {lo} and {hi}")
        return value

    def q_bool(self, name: str) -> bool | None:
        raw = self.q_str(name)
        if raw is None:
            return None
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise Problem(400, f"query parameter {name!r} must be true or false")

    def q_time(self, name: str) -> datetime | None:
        raw = self.q_str(name)
        return None if raw is None else parse_time(raw, f"query parameter {name!r}")


def parse_time(raw: str, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise Problem(400, f"{what} must be an ISO 8601 date or date-time") from None
    if value.tzinfo is None:
        raise Problem(400, f"{what} needs a time zone offset (e.g. 2026-01-05T08:00:00+01:00)")
    return value


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=str))


def guard(spec: RouteSpec) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    from edgectl.adapters.web.schemas import COMPONENTS

    # The components ride along so that "$ref": "#/components/schemas/X" resolves.
    validator = (
        None if spec.body is None
        else jsonschema.Draft202012Validator({**spec.body, "components": {"schemas": COMPONENTS}})
    )

    async def handler(request: web.Request) -> web.StreamResponse:
        deps, auth = request.app[DEPS], request.app[AUTH]
        principal = await authenticate(request, auth)
        if ANON not in spec.roles:
            if principal is None:
                raise Problem(401, "log in first (session cookie), or send HTTP Basic or Bearer credentials")
            if principal.role not in spec.roles:
                raise Problem(403, f"the {principal.role} profile may not {spec.summary[0].lower()}{spec.summary[1:]}")
        if principal is not None and principal.via == "cookie" and request.method not in SAFE_METHODS:
            check_csrf(request, principal)
        ctx = Ctx(request, principal, deps, auth, request.app[SITE])
        if spec.body is not None and spec.body_media == "application/json":
            ctx.body = await read_json(request)
            assert validator is not None
            error = jsonschema.exceptions.best_match(validator.iter_errors(ctx.body))
            if error is not None:
                where = "/".join(str(p) for p in error.absolute_path) or "body"
                raise Problem(400, f"{where}: {error.message}")
        return await spec.handler(ctx)

    handler.__name__ = spec.handler.__name__
    return handler


async def authenticate(request: web.Request, auth: Authenticator) -> Principal | None:
    header = request.headers.get("Authorization")
    if header:
        principal = await auth.from_header(header)
        if principal.role == FACTORY:
            raise Problem(403, "the factory account only runs the wizard, from the browser")
        return principal
    sid = request.cookies.get(SESSION_COOKIE)
    return None if sid is None else await auth.from_cookie(sid)


def check_csrf(request: web.Request, principal: Principal) -> None:
    """Synchronizer token: a cookie-authenticated write must echo the session's token.

    A cross-site page can make the browser send our cookie (SameSite=Strict
    already stops most of that) but cannot read the token to put it in a header.
    """
    sent = request.headers.get(CSRF_HEADER, "")
    expected = principal.csrf_token or ""
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Problem(403, f"missing or wrong CSRF token (send the {CSRF_HEADER} header you got at login)")
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin.split("://", 1)[-1] != request.host:
        raise Problem(403, "cross-origin request refused")


async def read_json(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > 2_000_000:
        raise Problem(413, "request body too large (2 MB at most)")
    raw = await request.read()
    if not raw:
        raise Problem(400, "a JSON body is required")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, f"body is not valid JSON: {exc}") from None


@dataclass
class Api:
    """Collects RouteSpecs from the view modules."""

    routes: list[RouteSpec] = field(default_factory=list)

    def add(self, spec: RouteSpec) -> None:
        self.routes.append(spec)

    def route(self, method: str, path: str, roles: frozenset[str], summary: str, tag: str,
              **kwargs: Any) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.add(RouteSpec(method, path, fn, roles, summary, tag, **kwargs))
            return fn

        return register
