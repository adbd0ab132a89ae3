"""Web users. The password hash is opaque here: hashing and checking it is
the web layer's job; the store only keeps the string. Usernames compare
case-insensitively (no "Admin" next to "admin")."""

from __future__ import annotations

import builtins
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import structlog

from edgectl.adapters.store.codec import from_us, from_us_opt, to_us, to_us_opt
from edgectl.adapters.store.db import Database
from edgectl.adapters.store.errors import AlreadyExistsError, NotFoundError

log = structlog.get_logger(__name__)


class Role(StrEnum):
    ADMIN = "admin"
    USER = "user"
    WEBSERVICES = "webservices"
    FACTORY = "factory"  # runs the first-boot wizard only


@dataclass(frozen=True, slots=True)
class User:
    username: str
    password_hash: str
    role: Role
    zone_scope: str | None = None  # limited to this zone's subtree; None: the whole site
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime | None = None  # None on create: the store's clock


def _from_row(r: sqlite3.Row) -> User:
    return User(
        username=r["username"],
        password_hash=r["password_hash"],
        role=Role(r["role"]),
        zone_scope=r["zone_scope"],
        failed_logins=r["failed_logins"],
        locked_until=from_us_opt(r["locked_until_us"]),
        created_at=from_us(r["created_at_us"]),
    )


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, user: User) -> User:
        created_us = self._db.now_us() if user.created_at is None else to_us(user.created_at)
        async with self._db.write() as conn:
            try:
                await conn.execute(
                    "INSERT INTO users (username, password_hash, role, zone_scope, failed_logins, locked_until_us,"
                    " created_at_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        user.username,
                        user.password_hash,
                        user.role.value,
                        user.zone_scope,
                        user.failed_logins,
                        to_us_opt(user.locked_until),
                        created_us,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExistsError(user.username) from exc
        log.info("user.created", username=user.username, role=user.role.value)
        return User(
            user.username,
            user.password_hash,
            user.role,
            user.zone_scope,
            user.failed_logins,
            user.locked_until,
            from_us(created_us),
        )

    async def get(self, username: str) -> User | None:
        row = await self._db.fetchone("SELECT * FROM users WHERE username = ?", (username,))
        return None if row is None else _from_row(row)

    async def list(self, role: Role | None = None) -> builtins.list[User]:
        if role is None:
            rows = await self._db.fetchall("SELECT * FROM users ORDER BY created_at_us, username")
        else:
            rows = await self._db.fetchall(
                "SELECT * FROM users WHERE role = ? ORDER BY created_at_us, username", (role.value,)
            )
        return [_from_row(r) for r in rows]

    async def update(self, user: User) -> None:
        """Write every field but the username and creation time."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE users SET password_hash = ?, role = ?, zone_scope = ?, failed_logins = ?, locked_until_us = ?"
                " WHERE username = ?",
                (
                    user.password_hash,
                    user.role.value,
                    user.zone_scope,
                    user.failed_logins,
                    to_us_opt(user.locked_until),
                    user.username,
                ),
            )
            if cursor.rowcount == 0:
                raise NotFoundError(user.username)

    async def set_login_state(self, username: str, failed_logins: int, locked_until: datetime | None) -> None:
        """The lock-out counters alone (a login attempt must not race a password change)."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE users SET failed_logins = ?, locked_until_us = ? WHERE username = ?",
                (failed_logins, to_us_opt(locked_until), username),
            )
            if cursor.rowcount == 0:
                raise NotFoundError(username)
        if locked_until is not None:
            log.info("user.locked", username=username, failed_logins=failed_logins)

    async def delete(self, username: str) -> bool:
        async with self._db.write() as conn:
            cursor = await conn.execute("DELETE FROM users WHERE username = ?", (username,))
            deleted = cursor.rowcount > 0
        if deleted:
            log.info("user.deleted", username=username)
        return deleted
