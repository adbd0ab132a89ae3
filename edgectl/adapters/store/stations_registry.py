"""Detected stations: every identity that connected, registered or not.

This is observation, not configuration: the registered stations are the
site's (`Site.stations`). The installer's "detected stations" list is this
table minus the registered ones.
"""

from __future__ import annotations

import builtins
import sqlite3
from dataclasses import dataclass
from datetime import datetime

import structlog

from edgectl.adapters.store.codec import from_us, to_us
from edgectl.adapters.store.db import Database
from edgectl.adapters.store.errors import NotFoundError

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DetectedStation:
    identity: str
    first_seen: datetime
    last_seen: datetime
    remote_address: str | None = None
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None


def _from_row(r: sqlite3.Row) -> DetectedStation:
    return DetectedStation(
        identity=r["identity"],
        first_seen=from_us(r["first_seen_us"]),
        last_seen=from_us(r["last_seen_us"]),
        remote_address=r["remote_address"],
        vendor=r["vendor"],
        model=r["model"],
        serial=r["serial"],
        firmware=r["firmware"],
    )


class StationRegistry:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def seen(self, identity: str, at: datetime, remote_address: str | None = None) -> DetectedStation:
        """A connection from `identity`: first seen is kept, last seen moves."""
        at_us = to_us(at)
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "INSERT INTO detected_stations (identity, first_seen_us, last_seen_us, remote_address)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (identity) DO UPDATE SET"
                " last_seen_us = MAX(last_seen_us, excluded.last_seen_us),"
                " remote_address = COALESCE(excluded.remote_address, remote_address)"
                " RETURNING *",
                (identity, at_us, at_us, remote_address),
            )
            row = await cursor.fetchone()
            await cursor.close()
        assert row is not None
        station = _from_row(row)
        if station.first_seen == station.last_seen:
            log.info("station.detected", station_id=identity, remote_address=remote_address)
        return station

    async def record_boot(
        self,
        identity: str,
        at: datetime,
        *,
        vendor: str | None,
        model: str | None,
        serial: str | None,
        firmware: str | None,
    ) -> DetectedStation:
        """BootNotification facts (the station must have been `seen` first)."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE detected_stations SET vendor = ?, model = ?, serial = ?, firmware = ?,"
                " last_seen_us = MAX(last_seen_us, ?) WHERE identity = ? RETURNING *",
                (vendor, model, serial, firmware, to_us(at), identity),
            )
            row = await cursor.fetchone()
            await cursor.close()
        if row is None:
            raise NotFoundError(identity)
        return _from_row(row)

    async def get(self, identity: str) -> DetectedStation | None:
        row = await self._db.fetchone("SELECT * FROM detected_stations WHERE identity = ?", (identity,))
        return None if row is None else _from_row(row)

    async def list(self) -> builtins.list[DetectedStation]:
        rows = await self._db.fetchall("SELECT * FROM detected_stations ORDER BY first_seen_us, identity")
        return [_from_row(r) for r in rows]

    async def delete(self, identity: str) -> bool:
        async with self._db.write() as conn:
            cursor = await conn.execute("DELETE FROM detected_stations WHERE identity = ?", (identity,))
            return cursor.rowcount > 0
