"""The event log: typed, filterable, bounded.

Only the newest `max_events` are kept. Trimming runs in batches (when the
log has grown a tenth past the bound) so that an append is not a DELETE.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog

from edgectl.adapters.store.codec import from_us, to_us
from edgectl.adapters.store.db import Database

log = structlog.get_logger(__name__)


class EventType(StrEnum):
    SYSTEM = "system"
    TRANSACTION = "transaction"
    METER_VALUE = "meter_value"
    STATS = "stats"
    SECURITY = "security"


@dataclass(frozen=True, slots=True)
class Event:
    type: EventType
    message: str
    source: str | None = None  # device: station identity, meter id, "box" …
    zone: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)  # JSON-serialisable
    at: datetime | None = None  # None on write: the store's clock
    id: int | None = None  # set when read back


@dataclass(frozen=True, slots=True)
class EventQuery:
    types: tuple[EventType, ...] = ()  # empty: all
    source: str | None = None
    zone: str | None = None
    text: str | None = None  # substring of the message
    at_from: datetime | None = None
    at_to: datetime | None = None
    before_id: int | None = None  # paging, newest first
    limit: int = 200


def _from_row(r: sqlite3.Row) -> Event:
    return Event(
        id=r["id"],
        at=from_us(r["at_us"]),
        type=EventType(r["type"]),
        source=r["source"],
        zone=r["zone"],
        message=r["message"],
        details=json.loads(r["details"]),
    )


class EventRepository:
    def __init__(self, db: Database, max_events: int) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self._db = db
        self.max_events = max_events
        self._batch = max(1, max_events // 10)
        self._count: int | None = None  # counted once, then tracked

    async def append(self, event: Event) -> int:
        at_us = self._db.now_us() if event.at is None else to_us(event.at)
        details = json.dumps(dict(event.details), sort_keys=True, default=str)
        async with self._db.write() as conn:
            if self._count is None:
                async with conn.execute("SELECT COUNT(*) FROM events") as cursor:
                    row = await cursor.fetchone()
                self._count = int(row[0]) if row else 0
            cursor = await conn.execute(
                "INSERT INTO events (at_us, type, source, zone, message, details) VALUES (?, ?, ?, ?, ?, ?)",
                (at_us, event.type.value, event.source, event.zone, event.message, details),
            )
            new_id = cursor.lastrowid
            assert new_id is not None
            self._count += 1
            if self._count > self.max_events + self._batch:
                # Ids only grow, so "the newest max_events" are the highest ids.
                trimmed = await conn.execute("DELETE FROM events WHERE id <= ?", (new_id - self.max_events,))
                self._count -= trimmed.rowcount
                log.info("store.events_trimmed", deleted=trimmed.rowcount, kept=self._count)
        return int(new_id)

    async def query(self, q: EventQuery | None = None) -> list[Event]:
        """Newest first."""
        q = q or EventQuery()
        where: list[str] = []
        params: list[object] = []
        if q.types:
            where.append(f"type IN ({', '.join('?' for _ in q.types)})")
            params += [t.value for t in q.types]
        if q.source is not None:
            where.append("source = ?")
            params.append(q.source)
        if q.zone is not None:
            where.append("zone = ?")
            params.append(q.zone)
        if q.text:
            where.append("instr(lower(message), lower(?)) > 0")
            params.append(q.text)
        if q.at_from is not None:
            where.append("at_us >= ?")
            params.append(to_us(q.at_from))
        if q.at_to is not None:
            where.append("at_us < ?")
            params.append(to_us(q.at_to))
        if q.before_id is not None:
            where.append("id < ?")
            params.append(q.before_id)
        sql = "SELECT * FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = await self._db.fetchall(sql + " ORDER BY id DESC LIMIT ?", [*params, q.limit])
        return [_from_row(r) for r in rows]

    async def count(self) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) FROM events")
        return int(row[0]) if row else 0
