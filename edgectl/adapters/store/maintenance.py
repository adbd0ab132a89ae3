"""Station maintenance state: reservation ids and firmware/diagnostics status.

Rules:
- reservation ids come from an AUTOINCREMENT sequence (never reused, never
  derived from time), like transaction ids;
- the latest firmware / diagnostics status per station is one row per
  (station, kind), overwritten by each notification (or by the command that
  asked for it); the history is the event log's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from edgectl.adapters.store.codec import from_us
from edgectl.adapters.store.db import Database

FileKind = Literal["firmware", "diagnostics"]


@dataclass(frozen=True, slots=True)
class FileStatus:
    station_id: str
    kind: str  # firmware | diagnostics
    status: str  # OCPP FirmwareStatus / DiagnosticsStatus, or "Requested"
    detail: str | None
    updated_at: datetime


class MaintenanceRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def next_reservation_id(self) -> int:
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "INSERT INTO reservation_ids (reserved_at_us) VALUES (?)", (self._db.now_us(),)
            )
            new_id = cursor.lastrowid
            assert new_id is not None
            # sqlite_sequence keeps the high-water mark; the row is not needed.
            await conn.execute("DELETE FROM reservation_ids WHERE id = ?", (new_id,))
        return int(new_id)

    async def record_file_status(self, station_id: str, kind: FileKind, status: str, detail: str | None = None) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO station_file_status (station_id, kind, status, detail, updated_at_us)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (station_id, kind) DO UPDATE SET status = excluded.status,"
                " detail = COALESCE(excluded.detail, detail), updated_at_us = excluded.updated_at_us",
                (station_id, kind, status, detail, self._db.now_us()),
            )

    async def file_status(self, station_id: str) -> dict[str, FileStatus]:
        """The latest status per kind ("firmware", "diagnostics") for one station."""
        rows = await self._db.fetchall("SELECT * FROM station_file_status WHERE station_id = ?", (station_id,))
        return {
            r["kind"]: FileStatus(r["station_id"], r["kind"], r["status"], r["detail"], from_us(r["updated_at_us"]))
            for r in rows
        }
