"""Who is asking: cookie sessions, bearer tokens, HTTP basic, lock-out.

Rules (SPEC §6, docs/security.md):
- a login checks the password with a slow hash in a worker thread (the event
  loop keeps serving stations meanwhile); after `max_failures` failures in a
  row the account is locked for `lockout_s`, during which even the right
  password is refused; a success resets the counter;
- every login, failure, lock-out and logout goes to the event log (type
  security) and to structlog;
- cookie sessions and bearer tokens are kept in the store (only a SHA-256 of
  the cookie value / token is written), so they survive a daemon restart; a
  cookie session dies after `inactivity_s` without a request (its last use is
  written at most every `TOUCH_S`, so after a restart it may end up to that
  much earlier), a token after `token_ttl_s`; a password, role or scope change
  and a user's deletion revoke every session and token of that user; each
  cookie session carries its own CSRF token; HTTP basic is checked like a
  login (so it is locked out the same way) with a short in-memory cache of
  successful checks to keep the slow hash off every API call;
- the policy (failures, lock-out, inactivity) can be changed by an admin at
  run time (`policy` is replaced; the next request uses it);
- the factory account may only log in with a cookie (it runs the wizard);
  webservices logins may only use basic/bearer (REST API only).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog

from edgectl.adapters.store import Event, EventType, Store, StoredSession, StoredToken, User, secret_hash
from edgectl.adapters.web.deps import SecurityPolicy
from edgectl.adapters.web.passwords import burn_time, verify_password
from edgectl.adapters.web.problems import Problem
from edgectl.clock import Clock

log = structlog.get_logger(__name__)

SESSION_COOKIE = "edgectl_session"
CSRF_COOKIE = "edgectl_csrf"
CSRF_HEADER = "X-CSRF-Token"
BASIC_CACHE_S = 60.0


@dataclass(frozen=True, slots=True)
class Principal:
    username: str
    role: str  # Role value
    zone_scope: str | None
    via: str  # "cookie" | "bearer" | "basic"
    session_id: str | None = None
    csrf_token: str | None = None


@dataclass
class WebSession:
    username: str
    csrf_token: str
    last_seen: datetime  # wall clock (it must survive a restart)
    written: datetime  # the last_seen the store holds


@dataclass
class Token:
    username: str
    expires: datetime


TOUCH_S = 30.0  # a session's last use is written to the store at most this often
PURGE_S = 3600.0  # expired sessions and tokens are deleted from the store this often


class Authenticator:
    def __init__(self, store: Store, clock: Clock, policy: SecurityPolicy) -> None:
        self._store = store
        self._clock = clock
        self.policy = policy
        # Caches of the store, by SHA-256 of the secret; the store is the truth.
        self._sessions: dict[str, WebSession] = {}
        self._tokens: dict[str, Token] = {}
        self._basic_ok: dict[str, tuple[str, float]] = {}  # sha256(user:pass) -> (hash seen, until)
        self._purged_at: float | None = None

    # --- login -------------------------------------------------------------------

    async def check_credentials(self, username: str, password: str, via: str) -> User:
        """The user, or Problem 401 (bad credentials) / 423 (locked)."""
        user = await self._store.users.get(username)
        now = self._clock.now()
        if user is None:
            await asyncio.to_thread(burn_time, password, self.policy.scrypt)
            await self.security("login failed: unknown user", username, via=via)
            raise Problem(401, "wrong login or password")
        if user.locked_until is not None and user.locked_until > now:
            left = int((user.locked_until - now).total_seconds()) + 1
            await self.security("login refused: account locked", user.username, via=via)
            raise Problem(423, f"account locked after too many failed logins; try again in {left} s",
                          headers={"Retry-After": str(left)}, retry_after_s=left)
        ok = await asyncio.to_thread(verify_password, password, user.password_hash)
        if not ok:
            failures = user.failed_logins + 1
            if user.locked_until is not None:  # a lock that ran out starts a fresh count
                failures = 1
            locked = None
            if failures >= self.policy.max_failures:
                locked = now + timedelta(seconds=self.policy.lockout_s)
            await self._store.users.set_login_state(user.username, failures, locked)
            await self.security("login failed: wrong password", user.username, via=via, failures=failures)
            if locked is not None:
                await self.security("account locked", user.username, via=via, lockout_s=self.policy.lockout_s)
                raise Problem(423, f"account locked for {int(self.policy.lockout_s)} s after {failures} failed logins",
                              headers={"Retry-After": str(int(self.policy.lockout_s))},
                              retry_after_s=int(self.policy.lockout_s))
            raise Problem(401, "wrong login or password")
        if user.failed_logins or user.locked_until is not None:
            await self._store.users.set_login_state(user.username, 0, None)
            user = replace(user, failed_logins=0, locked_until=None)
        return user

    async def open_session(self, user: User) -> tuple[str, WebSession]:
        await self._purge()
        sid = secrets.token_urlsafe(32)
        now = self._clock.now()
        session = WebSession(user.username, secrets.token_urlsafe(32), now, now)
        await self._store.web_auth.add_session(StoredSession(secret_hash(sid), user.username, session.csrf_token,
                                                             now, now))
        self._sessions[secret_hash(sid)] = session
        return sid, session

    async def close_session(self, sid: str) -> None:
        key = secret_hash(sid)
        self._sessions.pop(key, None)
        await self._store.web_auth.delete_session(key)

    async def close_user(self, username: str) -> None:
        """Log a user out everywhere (deleted, role or password changed)."""
        for key in [k for k, v in self._sessions.items() if v.username.lower() == username.lower()]:
            del self._sessions[key]
        for key in [k for k, v in self._tokens.items() if v.username.lower() == username.lower()]:
            del self._tokens[key]
        self._basic_ok.clear()
        await self._store.web_auth.revoke_user(username)

    async def close_all(self) -> None:
        """Everybody out (back to factory)."""
        self._sessions.clear()
        self._tokens.clear()
        self._basic_ok.clear()
        await self._store.web_auth.revoke_all()

    async def issue_token(self, username: str) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        expires = now + timedelta(seconds=self.policy.token_ttl_s)
        await self._store.web_auth.add_token(StoredToken(secret_hash(token), username, now, expires))
        self._tokens[secret_hash(token)] = Token(username, expires)
        return token, self.policy.token_ttl_s

    # --- per request -------------------------------------------------------------

    async def from_cookie(self, sid: str) -> Principal | None:
        key = secret_hash(sid)
        session = self._sessions.get(key)
        if session is None:
            stored = await self._store.web_auth.get_session(key)
            if stored is None:
                return None
            session = WebSession(stored.username, stored.csrf_token, stored.last_seen, stored.last_seen)
            self._sessions[key] = session
        now = self._clock.now()
        if (now - session.last_seen).total_seconds() > self.policy.inactivity_s:
            self._sessions.pop(key, None)
            await self._store.web_auth.delete_session(key)
            log.info("web.session_expired", username=session.username)
            return None
        user = await self._store.users.get(session.username)
        if user is None:
            self._sessions.pop(key, None)
            await self._store.web_auth.delete_session(key)
            return None
        session.last_seen = now
        if (now - session.written).total_seconds() >= TOUCH_S:
            session.written = now
            await self._store.web_auth.touch_session(key, now)
        return Principal(user.username, user.role.value, user.zone_scope, "cookie", sid, session.csrf_token)

    async def from_header(self, header: str) -> Principal:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            key = secret_hash(value.strip())
            token = self._tokens.get(key)
            if token is None:
                stored = await self._store.web_auth.get_token(key)
                if stored is not None:
                    token = self._tokens[key] = Token(stored.username, stored.expires_at)
            if token is None or token.expires < self._clock.now():
                if token is not None:
                    self._tokens.pop(key, None)
                    await self._store.web_auth.delete_token(key)
                raise Problem(401, "unknown or expired bearer token")
            user = await self._store.users.get(token.username)
            if user is None:
                raise Problem(401, "unknown or expired bearer token")
            return Principal(user.username, user.role.value, user.zone_scope, "bearer")
        if scheme.lower() == "basic":
            try:
                username, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                raise Problem(401, "malformed basic credentials") from None
            key = hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()
            cached = self._basic_ok.get(key)
            user = await self._store.users.get(username)
            if (cached is None or user is None or cached[0] != user.password_hash
                    or cached[1] < self._clock.monotonic() or user.locked_until is not None):
                user = await self.check_credentials(username, password, "basic")
                self._basic_ok[key] = (user.password_hash, self._clock.monotonic() + BASIC_CACHE_S)
            return Principal(user.username, user.role.value, user.zone_scope, "basic")
        raise Problem(401, "unsupported authorization scheme (use Basic or Bearer)")

    async def _purge(self) -> None:
        mono = self._clock.monotonic()
        if self._purged_at is not None and mono - self._purged_at < PURGE_S:
            return
        self._purged_at = mono
        now = self._clock.now()
        idle_before = now - timedelta(seconds=self.policy.inactivity_s)
        self._sessions = {k: v for k, v in self._sessions.items() if v.last_seen >= idle_before}
        self._tokens = {k: v for k, v in self._tokens.items() if v.expires >= now}
        await self._store.web_auth.purge(idle_before, now)

    async def security(self, message: str, username: str | None, **details: object) -> None:
        log.info("web.security", message=message, username=username, **details)
        await self._store.events.append(
            Event(EventType.SECURITY, message, source="web", details={"user": username, **details})
        )
