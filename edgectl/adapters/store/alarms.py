"""Alarms: an active list and a history, one row per occurrence.

Rules:
- at most one *active* alarm per (kind, source, connector) — a unique partial
  index holds it; `raise_alarm` of an active key returns the existing row and
  changes nothing (raising is idempotent);
- `clear` closes the active row of a key (None when there is none: clearing
  is idempotent too) and records who cleared it ("system" when the condition
  went away, an operator's login otherwise);
- history is paged by id, newest first, like the other logs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edgectl.adapters.store.codec import from_us, from_us_opt, to_us
from edgectl.adapters.store.db import Database


@dataclass(frozen=True, slots=True)
class Alarm:
    kind: str
    source: str  # station identity or meter id
    connector_id: int = 0  # 0: the station itself, or not about a connector
    code: str | None = None  # e.g. the OCPP error code of a faulted connector
    message: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    raised_at: datetime | None = None
    cleared_at: datetime | None = None
    cleared_by: str | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.cleared_at is None


@dataclass(frozen=True, slots=True)
class AlarmQuery:
    kind: str | None = None
    source: str | None = None
    active: bool | None = None  # None: both
    raised_from: datetime | None = None
    raised_to: datetime | None = None
    before_id: int | None = None  # paging, newest first
    limit: int = 100


def _from_row(r: sqlite3.Row) -> Alarm:
    return Alarm(
        id=r["id"],
        kind=r["kind"],
        source=r["source"],
        connector_id=r["connector_id"],
        code=r["code"],
        message=r["message"],
        details=json.loads(r["details"]),
        raised_at=from_us(r["raised_at_us"]),
        cleared_at=from_us_opt(r["cleared_at_us"]),
        cleared_by=r["cleared_by"],
    )


_ACTIVE = "SELECT * FROM alarms WHERE kind = ? AND source = ? AND connector_id = ? AND cleared_at_us IS NULL"


class AlarmRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def raise_alarm(self, alarm: Alarm) -> tuple[Alarm, bool]:
        """(the active alarm, True when it was raised now)."""
        key = (alarm.kind, alarm.source, alarm.connector_id)
        at_us = self._db.now_us() if alarm.raised_at is None else to_us(alarm.raised_at)
        async with self._db.write() as conn:
            async with conn.execute(_ACTIVE, key) as cursor:
                existing = await cursor.fetchone()
            if existing is not None:
                return _from_row(existing), False
            cursor = await conn.execute(
                "INSERT INTO alarms (kind, source, connector_id, code, message, details, raised_at_us)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*key, alarm.code, alarm.message, json.dumps(dict(alarm.details), default=str), at_us),
            )
            async with conn.execute("SELECT * FROM alarms WHERE id = ?", (cursor.lastrowid,)) as cursor:
                row = await cursor.fetchone()
        assert row is not None
        return _from_row(row), True

    async def clear(self, kind: str, source: str, connector_id: int = 0, *, by: str = "system") -> Alarm | None:
        """Clear the active alarm of this key; None when none was active."""
        async with self._db.write() as conn:
            async with conn.execute(_ACTIVE, (kind, source, connector_id)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            return await self._close(conn, row["id"], by)

    async def clear_id(self, alarm_id: int, *, by: str) -> Alarm | None:
        """Clear one alarm by id (an operator); None when unknown or already cleared."""
        async with self._db.write() as conn:
            async with conn.execute(
                "SELECT id FROM alarms WHERE id = ? AND cleared_at_us IS NULL", (alarm_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            return await self._close(conn, alarm_id, by)

    async def _close(self, conn: Any, alarm_id: int, by: str) -> Alarm:
        await conn.execute(
            "UPDATE alarms SET cleared_at_us = ?, cleared_by = ? WHERE id = ?", (self._db.now_us(), by, alarm_id)
        )
        async with conn.execute("SELECT * FROM alarms WHERE id = ?", (alarm_id,)) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return _from_row(row)

    async def get(self, alarm_id: int) -> Alarm | None:
        row = await self._db.fetchone("SELECT * FROM alarms WHERE id = ?", (alarm_id,))
        return None if row is None else _from_row(row)

    async def active(self, source: str | None = None) -> list[Alarm]:
        """Active alarms, oldest first."""
        sql = "SELECT * FROM alarms WHERE cleared_at_us IS NULL"
        params: tuple[str, ...] = ()
        if source is not None:
            sql, params = sql + " AND source = ?", (source,)
        return [_from_row(r) for r in await self._db.fetchall(sql + " ORDER BY id", params)]

    async def query(self, q: AlarmQuery | None = None) -> list[Alarm]:
        """History, newest first."""
        q = q or AlarmQuery()
        where: list[str] = []
        params: list[object] = []
        for column, value in (("kind", q.kind), ("source", q.source)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if q.active is not None:
            where.append("cleared_at_us IS NULL" if q.active else "cleared_at_us IS NOT NULL")
        if q.raised_from is not None:
            where.append("raised_at_us >= ?")
            params.append(to_us(q.raised_from))
        if q.raised_to is not None:
            where.append("raised_at_us < ?")
            params.append(to_us(q.raised_to))
        if q.before_id is not None:
            where.append("id < ?")
            params.append(q.before_id)
        sql = "SELECT * FROM alarms"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = await self._db.fetchall(sql + " ORDER BY id DESC LIMIT ?", [*params, q.limit])
        return [_from_row(r) for r in rows]
