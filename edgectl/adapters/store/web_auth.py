"""Web sessions, API tokens and the box's own settings, kept across restarts.

Rules:
- a session id or a bearer token is stored as its SHA-256 only (`secret_hash`);
  the caller keeps the clear value (the cookie, the client), so a copy of the
  database does not let anyone in;
- `revoke_user` drops every session and token of a login (password, role or
  scope change, deletion); `purge` drops what has expired;
- box settings are small JSON documents by name ("security", "network",
  "supervision"); `get` returns None for a group never written (defaults apply).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgectl.adapters.store.codec import from_us, to_us
from edgectl.adapters.store.db import Database


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredSession:
    id_hash: str
    username: str
    csrf_token: str
    created_at: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class StoredToken:
    token_hash: str
    username: str
    created_at: datetime
    expires_at: datetime


def _session(r: sqlite3.Row) -> StoredSession:
    return StoredSession(r["id_hash"], r["username"], r["csrf_token"], from_us(r["created_at_us"]),
                         from_us(r["last_seen_us"]))


def _token(r: sqlite3.Row) -> StoredToken:
    return StoredToken(r["token_hash"], r["username"], from_us(r["created_at_us"]), from_us(r["expires_at_us"]))


class WebAuthRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- cookie sessions -------------------------------------------------------------

    async def add_session(self, s: StoredSession) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO web_sessions (id_hash, username, csrf_token, created_at_us, last_seen_us)"
                " VALUES (?, ?, ?, ?, ?)",
                (s.id_hash, s.username, s.csrf_token, to_us(s.created_at), to_us(s.last_seen)),
            )

    async def get_session(self, id_hash: str) -> StoredSession | None:
        row = await self._db.fetchone("SELECT * FROM web_sessions WHERE id_hash = ?", (id_hash,))
        return None if row is None else _session(row)

    async def touch_session(self, id_hash: str, last_seen: datetime) -> None:
        async with self._db.write() as conn:
            await conn.execute("UPDATE web_sessions SET last_seen_us = ? WHERE id_hash = ?",
                               (to_us(last_seen), id_hash))

    async def delete_session(self, id_hash: str) -> None:
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM web_sessions WHERE id_hash = ?", (id_hash,))

    # --- bearer tokens ---------------------------------------------------------------

    async def add_token(self, t: StoredToken) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO api_tokens (token_hash, username, created_at_us, expires_at_us)"
                " VALUES (?, ?, ?, ?)",
                (t.token_hash, t.username, to_us(t.created_at), to_us(t.expires_at)),
            )

    async def get_token(self, token_hash: str) -> StoredToken | None:
        row = await self._db.fetchone("SELECT * FROM api_tokens WHERE token_hash = ?", (token_hash,))
        return None if row is None else _token(row)

    async def delete_token(self, token_hash: str) -> None:
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM api_tokens WHERE token_hash = ?", (token_hash,))

    # --- both --------------------------------------------------------------------------

    async def revoke_user(self, username: str) -> int:
        """Drop every session and token of `username`; how many were dropped."""
        async with self._db.write() as conn:
            a = await conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,))
            b = await conn.execute("DELETE FROM api_tokens WHERE username = ?", (username,))
            return int(a.rowcount) + int(b.rowcount)

    async def revoke_all(self) -> None:
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM web_sessions")
            await conn.execute("DELETE FROM api_tokens")

    async def purge(self, idle_before: datetime, now: datetime) -> None:
        """Sessions unused since `idle_before`, tokens expired at `now`."""
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM web_sessions WHERE last_seen_us < ?", (to_us(idle_before),))
            await conn.execute("DELETE FROM api_tokens WHERE expires_at_us < ?", (to_us(now),))

    async def count(self) -> tuple[int, int]:
        s = await self._db.fetchone("SELECT COUNT(*) FROM web_sessions")
        t = await self._db.fetchone("SELECT COUNT(*) FROM api_tokens")
        return (int(s[0]) if s else 0, int(t[0]) if t else 0)


class BoxSettingsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> dict[str, Any] | None:
        row = await self._db.fetchone("SELECT value FROM box_settings WHERE name = ?", (name,))
        return None if row is None else dict(json.loads(row["value"]))

    async def put(self, name: str, value: dict[str, Any]) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO box_settings (name, value, updated_at_us) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at_us = excluded.updated_at_us",
                (name, json.dumps(value, sort_keys=True), self._db.now_us()),
            )

    async def delete(self, name: str) -> None:
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM box_settings WHERE name = ?", (name,))
