"""StatusNotification history: one row per notification, browsable with paging.

Connector 0 is the station itself. `station_at` is the station's own
timestamp (optional in OCPP, and wrong on stations with a bad clock);
`received_at` is the box's. Paging is by id (newest first, `before_id`), so
a page does not shift while new notifications arrive.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from edgectl.adapters.store.codec import from_us, from_us_opt, to_us, to_us_opt
from edgectl.adapters.store.db import Database


@dataclass(frozen=True, slots=True)
class StationEvent:
    station_id: str
    connector_id: int  # 0 = the station
    status: str
    error_code: str = "NoError"
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    station_at: datetime | None = None
    received_at: datetime | None = None  # None on write: the store's clock
    id: int | None = None  # set when read back


@dataclass(frozen=True, slots=True)
class StationEventQuery:
    station_id: str | None = None
    connector_id: int | None = None
    status: str | None = None
    error_code: str | None = None  # exactly this OCPP error code
    errors_only: bool = False  # error_code other than NoError
    received_from: datetime | None = None
    received_to: datetime | None = None
    before_id: int | None = None  # paging: the smallest id of the previous page
    limit: int = 100


def _from_row(r: sqlite3.Row) -> StationEvent:
    return StationEvent(
        id=r["id"],
        station_id=r["station_id"],
        connector_id=r["connector_id"],
        status=r["status"],
        error_code=r["error_code"],
        info=r["info"],
        vendor_id=r["vendor_id"],
        vendor_error_code=r["vendor_error_code"],
        station_at=from_us_opt(r["station_at_us"]),
        received_at=from_us(r["received_at_us"]),
    )


class StationEventRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, event: StationEvent) -> int:
        received_us = self._db.now_us() if event.received_at is None else to_us(event.received_at)
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "INSERT INTO station_events (station_id, connector_id, status, error_code, info, vendor_id,"
                " vendor_error_code, station_at_us, received_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.station_id,
                    event.connector_id,
                    event.status,
                    event.error_code,
                    event.info,
                    event.vendor_id,
                    event.vendor_error_code,
                    to_us_opt(event.station_at),
                    received_us,
                ),
            )
            assert cursor.lastrowid is not None
            return int(cursor.lastrowid)

    async def query(self, q: StationEventQuery | None = None) -> list[StationEvent]:
        """Newest first."""
        q = q or StationEventQuery()
        where: list[str] = []
        params: list[object] = []
        for column, value in (
            ("station_id", q.station_id), ("connector_id", q.connector_id), ("status", q.status),
            ("error_code", q.error_code),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if q.errors_only:
            where.append("error_code <> 'NoError'")
        if q.received_from is not None:
            where.append("received_at_us >= ?")
            params.append(to_us(q.received_from))
        if q.received_to is not None:
            where.append("received_at_us < ?")
            params.append(to_us(q.received_to))
        if q.before_id is not None:
            where.append("id < ?")
            params.append(q.before_id)
        sql = "SELECT * FROM station_events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = await self._db.fetchall(sql + " ORDER BY id DESC LIMIT ?", [*params, q.limit])
        return [_from_row(r) for r in rows]

    async def latest_status(self, station_id: str) -> dict[int, StationEvent]:
        """The last notification per connector (used to restore the view after a restart)."""
        rows = await self._db.fetchall(
            "SELECT * FROM station_events WHERE id IN"
            " (SELECT MAX(id) FROM station_events WHERE station_id = ? GROUP BY connector_id)",
            (station_id,),
        )
        return {r["connector_id"]: _from_row(r) for r in rows}
